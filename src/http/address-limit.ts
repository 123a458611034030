/**
 * Connections per client address at the HTTP edge: the 429 a WebSocket upgrade or an SSE
 * request gets when its address already holds `MAX_CONNECTIONS_PER_ADDRESS` connections.
 * @module
 */
import type { ConnectionQuota } from "../core/connection-quota.ts";
import { limitExceeded } from "./errors.ts";

/**
 * Counts a connection of `address` against `quota` and returns the address to release on close,
 * `undefined` when there is nothing to release (limit off); throws the 429 at the limit.
 */
export function acquireAddress(quota: ConnectionQuota | undefined, address: string | undefined): string | undefined {
  if (!quota || quota.max === 0 || address === undefined) return undefined;
  if (!quota.acquire(address)) throw limitExceeded(`connections: ${address} already holds ${quota.max} connections (MAX_CONNECTIONS_PER_ADDRESS)`);
  return address;
}
