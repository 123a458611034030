/**
 * The `topic_log` table (sqlite): the embedded topic log's entries, so the chat, relay and
 * timer-event histories outlive a restart (`../sqlite-topic-log.ts`).
 * @module
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * One row per stored entry. `seq` is kept as text (what readers see) and split into `ms` / `n`
 * (what orders and trims: the `(topic, ms, n)` index). `body` is the JSON text exactly as
 * appended, so a reload hands out the same bytes. `event_id` is unique: a republished outbox row
 * finds its first append instead of storing a second one. The unique index is partial (rows
 * with an id only), so a chat append, which has none, updates two b-trees instead of three.
 *
 * `id` is the rowid without AUTOINCREMENT: AUTOINCREMENT writes `sqlite_sequence` on every insert,
 * even one that `ON CONFLICT DO NOTHING` drops (a duplicate event id then costs a commit and its
 * fsync). Nothing reads ids, and they are never reused anyway: trims delete a topic's oldest rows
 * only, so the newest row of the table always stays.
 */
export const topicLog = sqliteTable(
  "topic_log",
  {
    id: integer("id").primaryKey(),
    topic: text("topic").notNull(),
    seq: text("seq").notNull(),
    ms: integer("ms").notNull(),
    n: integer("n").notNull(),
    ts: integer("ts").notNull(),
    body: text("body").notNull(),
    eventId: text("event_id"),
    epoch: text("epoch").notNull(),
  },
  (t) => [uniqueIndex("topic_log_event_id_idx").on(t.eventId).where(sql`${t.eventId} IS NOT NULL`), index("topic_log_topic_seq_idx").on(t.topic, t.ms, t.n)],
);
