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
    // Drizzle builds the statement; bun:sqlite runs it with positional values (the per-call
    // placeholder filling and row mapping of a Drizzle prepared query cost half of an append).
    // `ON CONFLICT DO NOTHING` changes no row for an event id already stored: one statement both
    // dedupes and inserts.
    insert: insertRow(db),
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

/** One log row, in the order of {@link insertRow}'s values. */
export type LogRow = { topic: string; seq: string; ms: number; n: number; ts: number; body: string; eventId: string | null; epoch: string };

/** Inserts a row unless its event id is stored already; whether it inserted. */
function insertRow(db: SqliteDb): (row: LogRow) => boolean {
  const order = ["topic", "seq", "ms", "n", "ts", "body", "eventId", "epoch"] as const;
  const values = Object.fromEntries(order.map((name) => [name, p(name)])) as unknown as LogRow;
  const query = db.insert(topicLog).values(values).onConflictDoNothing().toSQL();
  const names = query.params.map((param) => (param as { value?: { name?: string } }).value?.name);
  if (names.join() !== order.join()) throw new Error(`topic_log insert: values in the order ${names.join()}, expected ${order.join()}`);
  const statement = db.$client.prepare(query.sql);
  return (r) => statement.run(r.topic, r.seq, r.ms, r.n, r.ts, r.body, r.eventId, r.epoch).changes > 0;
}

export type LogStatements = ReturnType<typeof logStatements>;
