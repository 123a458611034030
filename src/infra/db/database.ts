/**
 * Opening the timers database named by `DATABASE_URL` (or the `DATABASE_DSN` alias, resolved by
 * `databaseUrl(config)`): MySQL / MariaDB through a mysql2 pool, or the embedded SQLite file
 * through `bun:sqlite`. Migrations for the dialect are applied before the handle is returned.
 * The mysql2 driver is loaded only for a `mysql://` URL: the embedded mode never holds its code
 * (with node-redis, half of the modules the process would load; a larger heap makes every full
 * collection longer).
 * @module
 */
import type { Database, OpenOptions } from "./handle.ts";
import { openSqlite } from "./open-sqlite.ts";
import { redact } from "./redact.ts";

export type { Database, MysqlDb, MysqlHandle, OpenOptions, SqliteDb } from "./handle.ts";
export { LeaseConnectError, LeaseTimeoutError } from "./lease-timeout.ts";

/** Opens `url` (`sqlite:<file>`, `sqlite::memory:`, `mysql://...`) and applies migrations. */
export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Database> {
  if (url.startsWith("mysql://")) return (await import("./open-mysql.ts")).openMysql(url, opts);
  if (url.startsWith("sqlite:")) return openSqlite(url.slice("sqlite:".length));
  throw new Error(`DATABASE_URL: unsupported scheme in ${JSON.stringify(redact(url))}`);
}
