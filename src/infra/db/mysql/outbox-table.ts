/**
 * The `timer_outbox` table (mysql).
 * @module
 */
import { bigint, int, mysqlTable, text, uniqueIndex, varchar } from "drizzle-orm/mysql-core";

/**
 * The transactional outbox: each timer change writes its events here in the same transaction as
 * the row, and the publisher moves them to the `timers` log in `id` order, deleting a row only
 * once the log acknowledged it. `event_id` makes the append idempotent; `instance` and
 * `created_at` let another instance take over rows whose writer died.
 */
export const timerOutbox = mysqlTable(
  "timer_outbox",
  {
    id: bigint("id", { mode: "number" }).autoincrement().primaryKey(),
    eventId: varchar("event_id", { length: 36 }).notNull(),
    timerId: int("timer_id").notNull(),
    version: int("version").notNull(),
    type: varchar("type", { length: 32 }).notNull(),
    /** The timer view as JSON text. */
    payload: text("payload").notNull(),
    instance: varchar("instance", { length: 64 }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("timer_outbox_event_id_idx").on(t.eventId)],
);
