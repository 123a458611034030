/**
 * The `timers` table for MySQL / MariaDB. A timer's time is derived, never incremented: the
 * table holds what derives it (milliseconds accumulated while running, plus the instant it last
 * started running), so nothing is written per tick.
 *
 * Instants are epoch milliseconds in BIGINT columns rather than DATETIME: no time-zone
 * conversion in the driver (mysql2 reads DATETIME in the process's zone) and the same exact
 * values in both dialects. `version` is bumped by every write so that writes from several
 * instances can be made conditional (`WHERE id = ? AND version = ?`).
 * @module
 */
import { bigint, index, int, mysqlEnum, mysqlTable, varchar } from "drizzle-orm/mysql-core";

export const timers = mysqlTable(
  "timers",
  {
    id: int("id").autoincrement().primaryKey(),
    sessionId: varchar("session_id", { length: 128 }).notNull(),
    /** Milliseconds counted before `startedAt` (all of them when not running). */
    accumulatedMs: bigint("accumulated_ms", { mode: "number" }).notNull().default(0),
    /** Epoch ms the timer last started running; null while paused or finished. */
    startedAt: bigint("started_at", { mode: "number" }),
    /** Seconds at which the timer finishes. */
    maxTime: int("max_time").notNull(),
    status: mysqlEnum("status", ["running", "paused", "finished"]).notNull(),
    version: int("version").notNull().default(1),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [index("timers_session_id_idx").on(t.sessionId)],
);
