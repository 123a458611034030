/**
 * Applies the committed drizzle-kit migrations (`drizzle/mysql`, `drizzle/sqlite`) at start.
 *
 * Several instances may start together against one MySQL: drizzle's migrator takes no lock, so
 * two of them could both try `CREATE TABLE`. A MySQL named lock (`GET_LOCK`) held on one pool
 * connection for the duration serializes them; the second finds the migrations recorded and
 * does nothing.
 * @module
 */
import { join } from "node:path";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { migrate as migrateBunSqlite } from "drizzle-orm/bun-sqlite/migrator";
import type { MySql2Database } from "drizzle-orm/mysql2";
import { migrate as migrateMysql2 } from "drizzle-orm/mysql2/migrator";
import type { Pool } from "mysql2";

/** The repository's `drizzle/` folder, wherever the process was started from. */
export const MIGRATIONS_ROOT = join(import.meta.dir, "..", "..", "..", "drizzle");

/** tickwire's own bookkeeping table, so another tool's drizzle migrations cannot collide. */
const MIGRATIONS_TABLE = "__tickwire_migrations";

const LOCK_NAME = "tickwire_migrations";
const LOCK_WAIT_SECONDS = 30;

export async function migrateMysql(db: MySql2Database, pool: Pool): Promise<void> {
  const conn = await pool.promise().getConnection();
  try {
    const [rows] = await conn.query("SELECT GET_LOCK(?, ?) AS got", [LOCK_NAME, LOCK_WAIT_SECONDS]);
    if ((rows as { got: number | null }[])[0]?.got !== 1) throw new Error(`could not take the migration lock in ${LOCK_WAIT_SECONDS} s`);
    try {
      await migrateMysql2(db, { migrationsFolder: join(MIGRATIONS_ROOT, "mysql"), migrationsTable: MIGRATIONS_TABLE });
    } finally {
      await conn.query("SELECT RELEASE_LOCK(?)", [LOCK_NAME]).catch(() => {});
    }
  } finally {
    conn.release();
  }
}

export function migrateSqlite(db: BunSQLiteDatabase): void {
  migrateBunSqlite(db, { migrationsFolder: join(MIGRATIONS_ROOT, "sqlite"), migrationsTable: MIGRATIONS_TABLE });
}
