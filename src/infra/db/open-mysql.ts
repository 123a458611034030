/**
 * MySQL / MariaDB through a mysql2 pool and Drizzle, migrated before use; bounded queries run on
 * a connection leased for them alone (`mysql-lease.ts`).
 * @module
 */
import { sql } from "drizzle-orm";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { createPool } from "mysql2";
import type { Database, OpenOptions } from "./handle.ts";
import { migrateMysql } from "./migrate.ts";
import { Leases } from "./mysql-lease.ts";
import { redact } from "./redact.ts";

export async function openMysql(url: string, opts: OpenOptions): Promise<Database> {
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
  const timeoutMs = opts.queryTimeoutMs ?? 5000;
  // A transaction idle past the longest lease (plus a second) was abandoned by its lease.
  const leases = new Leases(pool, (conn) => drizzleMysql({ client: conn }), timeoutMs + 1000);
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
    withConnection: (ms, work) => leases.run(ms, work),
    async ping() {
      try {
        await leases.run(timeoutMs, (on) => on.execute(sql`SELECT 1`));
        return true;
      } catch {
        return false;
      }
    },
    close: () => leases.end(timeoutMs),
  };
}
