/**
 * The `idempotency_keys` table (sqlite).
 * @module
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Responses of requests sent with an `Idempotency-Key`; see `../mysql/idempotency-table.ts`. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    scope: text("scope").notNull(),
    key: text("idem_key").notNull(),
    owner: text("owner").notNull().default(""),
    requestHash: text("request_hash").notNull(),
    status: integer("status").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.key] }),
    index("idempotency_keys_created_idx").on(t.createdAt),
    index("idempotency_keys_owner_idx").on(t.owner, t.createdAt),
  ],
);
