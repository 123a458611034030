/**
 * How the timer service answers while the database is unreachable: the query's
 * {@link StoreUnavailableError} becomes a 503 with `Retry-After`, so requests are refused
 * rather than served from a copy that may be stale.
 * @module
 */
import { unavailable } from "../../http/errors.ts";
import { StoreUnavailableError } from "./timer-store.ts";

/** Turns an unreachable database into a 503 for requests. */
export async function guardStore<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw unavailable(`${error.message}; timer changes are refused until it is back`, 2, error);
    throw error;
  }
}
