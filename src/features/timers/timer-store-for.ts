/**
 * Picks the timer store for the opened database's dialect.
 * @module
 */
import type { Database } from "../../infra/db/database.ts";
import type { AnswerCap } from "./answer-cap.ts";
import { MysqlTimerStore } from "./mysql-timer-store.ts";
import { SqliteTimerStore } from "./sqlite-timer-store.ts";
import type { TimerStore } from "./timer-store.ts";

export function timerStoreFor(database: Database, opts: { queryTimeoutMs?: number; answerCap?: AnswerCap } = {}): TimerStore {
  const { queryTimeoutMs = 5000, answerCap } = opts;
  return database.dialect === "mysql" ? new MysqlTimerStore(database, queryTimeoutMs, answerCap) : new SqliteTimerStore(database.db, answerCap);
}
