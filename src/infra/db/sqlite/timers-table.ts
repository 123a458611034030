/**
 * The `timers` table for the embedded default (SQLite through `bun:sqlite`). Same columns and
 * meaning as the MySQL table in `schema-mysql.ts`; see there for why instants are epoch ms and
 * why rows carry a `version`.
 * @module
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const timers = sqliteTable(
  "timers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sessionId: text("session_id").notNull(),
    accumulatedMs: integer("accumulated_ms").notNull().default(0),
    startedAt: integer("started_at"),
    maxTime: integer("max_time").notNull(),
    status: text("status", { enum: ["running", "paused", "finished"] }).notNull(),
    version: integer("version").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("timers_session_id_idx").on(t.sessionId)],
);
