/**
 * WebSocket upgrades refused for auth, in the way a browser can see.
 * @module
 */
import type { BunRequest } from "bun";
import { HttpError } from "../http/errors.ts";
import { type AppServer, CloseCode, upgrade } from "../transports/ws/socket.ts";

/** Socket kind of connections accepted only to be closed with an auth close code. */
export const DENIED = "denied";

/**
 * A browser cannot read the HTTP status of a refused WebSocket handshake, so an upgrade refused
 * for auth (401/403) is accepted and closed at once with 4401/4403 and the reason.
 */
export function deniedUpgrade(req: BunRequest, server: AppServer, error: unknown): boolean {
  if (!(error instanceof HttpError) || (error.status !== 401 && error.status !== 403)) return false;
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return false;
  const code = error.status === 401 ? CloseCode.unauthorized : CloseCode.forbidden;
  try {
    upgrade(req, server, DENIED, { uncounted: true, params: { code: String(code), reason: error.message.slice(0, 120) } });
    return true;
  } catch {
    return false;
  }
}
