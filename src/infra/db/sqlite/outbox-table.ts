/**
 * The `timer_outbox` table (sqlite).
 * @module
 */
import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** The transactional outbox; see `../mysql/outbox-table.ts`. */
export const timerOutbox = sqliteTable(
  "timer_outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    eventId: text("event_id").notNull(),
    timerId: integer("timer_id").notNull(),
    version: integer("version").notNull(),
    type: text("type").notNull(),
    payload: text("payload").notNull(),
    instance: text("instance").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("timer_outbox_event_id_idx").on(t.eventId)],
);
