/**
 * Helpers shared by every WebSocket endpoint: upgrading with typed socket data, JSON replies,
 * the malformed-frame limit, and replay targets that feed a socket from the hub.
 * @module
 */
import type { BunRequest } from "bun";
import type { ReplayTarget } from "../../core/hub.ts";
import { isSeq } from "../../core/seq.ts";
import { HttpError } from "../../http/errors.ts";
import type { AppServer, Principal, Socket, SocketData } from "../../app/feature.ts";

let nextSocketId = 1;

/**
 * The `?since=` of an upgrade request: `undefined` when absent, 400 when it is not a seq, so a
 * client that thinks it resumed never silently goes live with a gap.
 */
export function sinceParam(req: Request): string | undefined {
  const since = new URL(req.url).searchParams.get("since");
  if (since === null || since === "") return undefined;
  if (!isSeq(since)) throw new HttpError(400, "bad_request", `since: ${JSON.stringify(String(since).slice(0, 40))} is not a seq ("<ms>-<n>")`, "since");
  return since;
}

/** Close codes used across endpoints. */
export const CloseCode = {
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  /** The socket could not take a durable event; reconnect with `since` to lose nothing. */
  overflow: 4008,
  unauthorized: 4401,
  forbidden: 4403,
} as const;

/** More than this many malformed frames within one second closes the socket with 1008. */
export const MALFORMED_PER_SECOND = 10;

/**
 * Upgrades `req` to a WebSocket handled by the behaviour registered for `kind`. Returns
 * `undefined` on success (Bun then owns the connection), or throws a 426 for plain HTTP.
 */
export function upgrade(
  req: BunRequest,
  server: AppServer,
  kind: string,
  params: Record<string, string> = {},
  principal?: Principal,
): undefined {
  const data: SocketData = {
    kind,
    id: nextSocketId++,
    params,
    query: new URL(req.url).searchParams,
    topics: new Set(),
    principal,
    closed: false,
    malformedWindow: 0,
    malformedCount: 0,
  };
  if (server.upgrade(req, { data })) return undefined;
  throw new HttpError(426, "upgrade_required", "this endpoint speaks WebSocket; send an Upgrade: websocket request");
}

export function sendJson(ws: Socket, value: unknown): void {
  if (!ws.data.closed) ws.send(JSON.stringify(value));
}

export function sendError(ws: Socket, code: string, message: string, ref?: unknown): void {
  sendJson(ws, { op: "error", code, message, ...(ref !== undefined ? { ref } : {}) });
}

/**
 * Answers a malformed frame with an `error` frame; past {@link MALFORMED_PER_SECOND} within a
 * second, closes the socket with 1008 instead.
 */
export function rejectMalformed(ws: Socket, now: number, code: string, message: string, ref?: unknown): void {
  const d = ws.data;
  if (now - d.malformedWindow >= 1000) {
    d.malformedWindow = now;
    d.malformedCount = 0;
  }
  if (++d.malformedCount > MALFORMED_PER_SECOND) {
    closeSocket(ws, CloseCode.policyViolation, "too many malformed frames");
    return;
  }
  sendError(ws, code, message, ref);
}

export function closeSocket(ws: Socket, code: number, reason: string): void {
  if (ws.data.closed) return;
  ws.data.closed = true;
  ws.close(code, reason);
}

/**
 * A replay target that writes frames straight to `ws` and subscribes it natively once caught
 * up. A socket buffering more than `limit` bytes cannot take more history: it is closed 4008.
 */
export function wsReplayTarget(ws: Socket, topic: string, limit: number, onLive?: () => void): ReplayTarget {
  return {
    send(frame) {
      if (ws.data.closed) return false;
      if (ws.getBufferedAmount() > limit) return false;
      return ws.send(frame) !== 0;
    },
    notRecovered() {
      sendJson(ws, { op: "recovered", topic, recovered: false });
    },
    goLive() {
      if (ws.data.closed) return;
      ws.subscribe(topic);
      onLive?.();
    },
    overflowed() {
      closeSocket(ws, CloseCode.overflow, "could not keep up; reconnect with since");
    },
    get closed() {
      return ws.data.closed;
    },
  };
}
