/**
 * drizzle-kit configuration. tickwire keeps one migration folder per dialect because MySQL and
 * SQLite DDL differ; pick the dialect with `DB_DIALECT` (default `mysql`):
 *
 *   DB_DIALECT=mysql  bunx drizzle-kit generate   → drizzle/mysql/
 *   DB_DIALECT=sqlite bunx drizzle-kit generate   → drizzle/sqlite/
 *
 * `bun run db:generate` runs both. The server applies the folder of its dialect at start.
 */
import { defineConfig } from "drizzle-kit";

const dialect = process.env.DB_DIALECT === "sqlite" ? "sqlite" : "mysql";

export default dialect === "sqlite"
  ? defineConfig({
      dialect: "sqlite",
      schema: "./src/infra/db/schema-sqlite.ts",
      out: "./drizzle/sqlite",
      dbCredentials: { url: process.env.DATABASE_URL?.replace(/^sqlite:/, "") ?? "./data/tickwire.db" },
    })
  : defineConfig({
      dialect: "mysql",
      schema: "./src/infra/db/schema-mysql.ts",
      out: "./drizzle/mysql",
      dbCredentials: { url: process.env.DATABASE_URL?.startsWith("mysql://") ? process.env.DATABASE_URL : "mysql://root@127.0.0.1:3306/tickwire" },
    });
