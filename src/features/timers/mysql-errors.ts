/**
 * What a mysql2 error means for a timer write: the server was not reached (nothing written), or
 * the write was sent and its outcome is unknown.
 * @module
 */

/** Codes that mean the query never reached a server: nothing can have been written. */
const REFUSED_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ER_CON_COUNT_ERROR"]);

/** Codes that mean the connection failed; mid-write, the outcome is unknown. */
const LOST_CODES = new Set(["ECONNRESET", "ETIMEDOUT", "EPIPE", "PROTOCOL_CONNECTION_LOST", "PROTOCOL_SEQUENCE_TIMEOUT", "ER_SERVER_SHUTDOWN"]);

/** mysql2's pool refuses what it never sent (queue full, pool closed) with a code-less `Error` (`lib/base/pool.js`). */
const POOL_REFUSALS = new Set(["Queue limit reached.", "Pool is closed.", "No connections available."]);

export type ConnectionFailure = { kind: "refused" | "lost"; code: string };

/** How `error` (or one of its causes) failed the connection, if it did. */
export function connectionFailure(error: unknown): ConnectionFailure | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && REFUSED_CODES.has(code)) return { kind: "refused", code };
    if (typeof code === "string" && LOST_CODES.has(code)) return { kind: "lost", code };
    if (code === undefined && POOL_REFUSALS.has((e as Error).message)) return { kind: "refused", code: "POOL_REFUSED" };
    if ((e as { fatal?: unknown }).fatal === true) return { kind: "lost", code: typeof code === "string" ? code : "fatal" };
  }
  return undefined;
}

/** A duplicate key (MySQL 1062): another writer inserted the same key first. */
export function isDuplicateKey(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === "ER_DUP_ENTRY" || (e as { errno?: unknown }).errno === 1062) return true;
  }
  return false;
}
