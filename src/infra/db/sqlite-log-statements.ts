/**
 * The prepared statements of the embedded topic log (`sqlite-topic-log.ts`), prepared once.
 * @module
 */
import { eq, sql } from "drizzle-orm";
import type { SqliteDb } from "./database.ts";
import { logEpochs, topicLog } from "./schema-sqlite.ts";

export const p = (name: string) => sql.placeholder(name);

/** The hot-path statements, prepared once. */
export function logStatements(db: SqliteDb) {
  return {
    // `ON CONFLICT DO NOTHING RETURNING` returns no row for an event id already stored: one
    // statement both dedupes and inserts.
    insert: db
      .insert(topicLog)
      .values({ topic: p("topic"), seq: p("seq"), ms: p("ms"), n: p("n"), ts: p("ts"), body: p("body"), eventId: p("eventId"), epoch: p("epoch") })
      .onConflictDoNothing()
      .returning({ id: topicLog.id })
      .prepare(),
    byEventId: db
      .select({ topic: topicLog.topic, seq: topicLog.seq, ts: topicLog.ts, body: topicLog.body, epoch: topicLog.epoch })
      .from(topicLog)
      .where(eq(topicLog.eventId, p("eventId")))
      .prepare(),
    // Rows of a topic strictly before a seq: a range on the (topic, ms, n) index.
    trim: db
      .delete(topicLog)
      .where(sql`${topicLog.topic} = ${p("topic")} and (${topicLog.ms}, ${topicLog.n}) < (${p("ms")}, ${p("n")})`)
      .prepare(),
    markTrimmed: db
      .update(logEpochs)
      .set({ trimmed: sql`${p("trimmed")}` })
      .where(eq(logEpochs.topic, p("topic")))
      .prepare(),
  };
}

export type LogStatements = ReturnType<typeof logStatements>;
