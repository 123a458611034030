/**
 * How the timer service answers while the database is unreachable or silent: a query the
 * database refused ({@link StoreUnavailableError}) becomes a 503 with `Retry-After` (nothing was
 * written), a write whose outcome is unknown ({@link StoreOutcomeUnknownError}) a 504
 * `outcome_unknown` (it may still commit; its outbox events will then publish it, and a retry
 * with the same `Idempotency-Key` returns its answer instead of changing anything twice).
 * @module
 */
import { HttpError, unavailable } from "../../http/errors.ts";
import { StoreOutcomeUnknownError, StoreUnavailableError } from "./timer-store.ts";

/** The HTTP answer's advice; a game-master socket, which has no keys, says {@link SOCKET_OUTCOME_ADVICE}. */
export const OUTCOME_UNKNOWN_ADVICE = "retry with the same Idempotency-Key to learn the outcome";
export const SOCKET_OUTCOME_ADVICE = "the change may still commit, and is then published on this socket like any other";

/** Turns an unreachable database into a 503, an unknown outcome into a 504. */
export async function guardStore<T>(query: () => Promise<T>, onUnknown?: () => void): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw unavailable(`${error.message}; timer changes are refused until it is back`, 2, error);
    if (error instanceof StoreOutcomeUnknownError) {
      onUnknown?.();
      throw new HttpError(504, "outcome_unknown", `${error.message}; ${OUTCOME_UNKNOWN_ADVICE}`, undefined, {
        cause: error,
        headers: { "Retry-After": "2" },
      });
    }
    throw error;
  }
}
