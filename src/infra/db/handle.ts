/**
 * The handle to the timers database: a tagged union because Drizzle's query types differ per
 * dialect; the timers feature has one store per dialect and picks it from `dialect`.
 * @module
 */
import type { Database as SqliteClient } from "bun:sqlite";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { MySql2Database } from "drizzle-orm/mysql2";
import type { Pool } from "mysql2";

export type MysqlDb = MySql2Database;
export type SqliteDb = BunSQLiteDatabase & { $client: SqliteClient };

export interface Common {
  /** Where it points, with any password removed, for logs. */
  readonly location: string;
  /** `true` when the database answers (`SELECT 1` for MySQL). */
  ping(): Promise<boolean>;
  /** Closes the pool / file. */
  close(): Promise<void>;
}

export interface MysqlHandle {
  dialect: "mysql";
  db: MysqlDb;
  pool: Pool;
  /**
   * Runs `work` on a pool connection of its own (`mysql-lease.ts`): given up after `timeoutMs`
   * with a `LeaseTimeoutError`, the connection destroyed rather than left stuck in the pool.
   */
  withConnection<T>(timeoutMs: number, work: (db: MysqlDb) => Promise<T>): Promise<T>;
}

export type Database = (Common & MysqlHandle) | (Common & { dialect: "sqlite"; db: SqliteDb; client: SqliteClient });

export interface OpenOptions {
  /** Connections in the MySQL pool. Writes are few (state changes only, never per tick). */
  poolSize?: number;
  /**
   * How long a MySQL ping may take before its connection is destroyed (default 5000,
   * `DB_QUERY_TIMEOUT_MS`); `close()` waits at most this long for queries in flight.
   */
  queryTimeoutMs?: number;
}
