/**
 * Opening the timers database named by `DATABASE_URL` (or the `DATABASE_DSN` alias, resolved by
 * `databaseUrl(config)`): MySQL / MariaDB through a mysql2 pool, or the embedded SQLite file
 * through `bun:sqlite`. Migrations for the dialect are applied before the handle is returned.
 *
 * The handle is a tagged union because Drizzle's query types differ per dialect; the timers
 * feature has one store per dialect and picks it from `dialect`.
 * @module
 */
import { Database as SqliteClient } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { sql } from "drizzle-orm";
import { type BunSQLiteDatabase, drizzle as drizzleSqlite } from "drizzle-orm/bun-sqlite";
import { drizzle as drizzleMysql, type MySql2Database } from "drizzle-orm/mysql2";
import { createPool, type Pool } from "mysql2";
import { migrateMysql, migrateSqlite } from "./migrate.ts";

export type MysqlDb = MySql2Database;
export type SqliteDb = BunSQLiteDatabase;

interface Common {
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

/** Opens `url` (`sqlite:<file>`, `sqlite::memory:`, `mysql://...`) and applies migrations. */
export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Database> {
  if (url.startsWith("mysql://")) return openMysql(url, opts);
  if (url.startsWith("sqlite:")) return openSqlite(url.slice("sqlite:".length));
  throw new Error(`DATABASE_URL: unsupported scheme in ${JSON.stringify(redact(url))}`);
}

async function openMysql(url: string, opts: OpenOptions): Promise<Database> {
  const pool = createPool({
    uri: url,
    connectionLimit: opts.poolSize ?? 10,
    // A dead server must fail requests fast (503) instead of queueing them behind a connect.
    connectTimeout: 3000,
    enableKeepAlive: true,
    waitForConnections: true,
    queueLimit: 1000,
  });
  // mysql2 re-emits connection errors on the pool; without a listener a lost server would be
  // an uncaught 'error' event. Queries report their own failures.
  pool.on("error" as never, () => {});
  // No `mode` option: drizzle-orm 0.45.4's config sniffing (`isConfig`) rejects any object with
  // a `mode` key and then treats the whole options object as the client. Default mode it is.
  const db = drizzleMysql({ client: pool });
  try {
    await migrateMysql(db, pool);
  } catch (error) {
    await pool
      .promise()
      .end()
      .catch(() => {});
    throw new Error(`database ${redact(url)}: migration failed: ${(error as Error).message}`, { cause: error });
  }
  return {
    dialect: "mysql",
    db,
    pool,
    location: redact(url),
    async ping() {
      try {
        await db.execute(sql`SELECT 1`);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await pool.promise().end();
    },
  };
}

function openSqlite(file: string): Database {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const client = new SqliteClient(file, { create: true, strict: true });
  // WAL lets readers proceed during a write and survives kill -9 without a torn database.
  if (file !== ":memory:") client.exec("PRAGMA journal_mode = WAL");
  client.exec("PRAGMA busy_timeout = 5000");
  const db = drizzleSqlite({ client });
  migrateSqlite(db);
  return {
    dialect: "sqlite",
    db,
    client,
    location: `sqlite:${file}`,
    async ping() {
      return true;
    },
    async close() {
      client.close();
    },
  };
}

/** `url` with its password replaced, for logs and errors. */
export function redact(url: string): string {
  return url.replace(/^(mysql:\/\/[^:@/]*:)[^@]*@/, "$1***@");
}
