/**
 * The `idempotency_keys` table (mysql).
 * @module
 */
import { bigint, index, mysqlTable, primaryKey, smallint, text, varchar } from "drizzle-orm/mysql-core";

/**
 * Responses of requests sent with an `Idempotency-Key`, written in the same transaction as the
 * change they answer, so a retry gets the first answer instead of a second change.
 */
export const idempotencyKeys = mysqlTable(
  "idempotency_keys",
  {
    scope: varchar("scope", { length: 96 }).notNull(),
    key: varchar("idem_key", { length: 128 }).notNull(),
    /** SHA-256 of the request body, hex: the same key with another body is refused. */
    /** Whose answer it is: see `answerOwner` (`features/timers/answer-cap.ts`); bounds answers per token `sub`. */
    owner: varchar("owner", { length: 32 }).notNull().default(""),
    requestHash: varchar("request_hash", { length: 64 }).notNull(),
    status: smallint("status").notNull(),
    body: text("body").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.key] }),
    index("idempotency_keys_created_idx").on(t.createdAt),
    index("idempotency_keys_owner_idx").on(t.owner, t.createdAt),
  ],
);
