/**
 * Picks the timer store for the opened database's dialect.
 * @module
 */
import type { Database } from "../../infra/db/database.ts";
import { MysqlTimerStore } from "./mysql-timer-store.ts";
import { SqliteTimerStore } from "./sqlite-timer-store.ts";
import type { TimerStore } from "./timer-store.ts";

export function timerStoreFor(database: Database, opts: { queryTimeoutMs?: number } = {}): TimerStore {
  return database.dialect === "mysql" ? new MysqlTimerStore(database.db, opts.queryTimeoutMs ?? 5000) : new SqliteTimerStore(database.db);
}
