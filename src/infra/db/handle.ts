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

export type Database = (Common & { dialect: "mysql"; db: MysqlDb; pool: Pool }) | (Common & { dialect: "sqlite"; db: SqliteDb; client: SqliteClient });

export interface OpenOptions {
  /** Connections in the MySQL pool. Writes are few (state changes only, never per tick). */
  poolSize?: number;
}
