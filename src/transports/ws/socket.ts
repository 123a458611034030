/**
 * The per-connection state every WebSocket endpoint shares, upgrading with it, and the small
 * writes every endpoint does (JSON replies, error frames, closing once).
 * @module
 */
import type { BunRequest, Server, ServerWebSocket } from "bun";
import type { Principal } from "../../auth/principal.ts";
import type { ConnectionQuota } from "../../core/connection-quota.ts";
import type { Subscriptions } from "../../core/subscriptions.ts";
import { acquireAddress } from "../../http/address-limit.ts";
import { HttpError } from "../../http/errors.ts";

import { CloseCode } from "./close-codes.ts";

export { CloseCode };

/** Per-connection state of every WebSocket, whatever its endpoint. */
export interface SocketData {
  /** Which {@link SocketBehavior} handles this socket (e.g. `unified`, `customer`, `manager`). */
  kind: string;
  /** Process-unique connection id, for logs. */
  id: number;
  /** Path parameters of the upgrade route (e.g. `sessionId`). */
  params: Record<string, string>;
  /** Query parameters of the upgrade request. */
  query: URLSearchParams;
  /** The upgrade request's validated `?since=`, when it asked to resume. */
  since: string | undefined;
  /** Topics this socket is subscribed to, live or replaying (set by the WS transport on open). */
  subscriptions?: Subscriptions;
  /** The authenticated principal, when auth is on. */
  principal?: Principal | undefined;
  /** Set once the socket is closing; replay targets check it. */
  closed: boolean;
  /** Malformed-frame rate limit: window start (ms) and count in the window. */
  malformedWindow: number;
  malformedCount: number;
  /** In-band op rate limit: window start (ms) and ops in the window. */
  opsWindow?: number;
  opsCount?: number;
  /** Publish rate limit: window start (ms) and publishes in the window. */
  publishWindow?: number;
  publishCount?: number;
  /** The client address counted against `MAX_CONNECTIONS_PER_ADDRESS`, released on close. */
  address?: string;
  /** Cancels the close scheduled at the token's expiry. */
  cancelExpiry?: () => void;
  /** A topic the connection was admitted to publish on: a refreshed token must allow it too. */
  requirePublish?: string;
  /**
   * The topic the route required subscribe permission on: a refreshed token must allow it too,
   * even before the socket subscribes to it (a timer snapshot still being sent).
   */
  requireSubscribe?: string;
}

export type Socket = ServerWebSocket<SocketData>;
export type AppServer = Server<SocketData>;

/** What one WebSocket endpoint does with its sockets. */
export interface SocketBehavior {
  /**
   * What the endpoint's frames are: `ops` (the default) count against `WS_OPS_PER_SECOND` in the
   * server; `publishes` (each frame is a publish) are limited by the endpoint itself.
   */
  frames?: "ops" | "publishes";
  /**
   * Sends a reply the server makes itself to one of the endpoint's frames (a refresh op's ack or
   * error), once `reply` resolves and after every earlier reply of the socket, for an endpoint
   * whose clients match replies to frames by order (`/ws/manager`). Without it the reply goes
   * out as soon as it is ready.
   */
  replyInOrder?(ws: Socket, reply: Promise<object | undefined>): void;
  open?(ws: Socket): void;
  message?(ws: Socket, message: string | Buffer): void;
  close?(ws: Socket, code: number, reason: string): void;
  /** The socket's send buffer drained after backpressure. */
  drain?(ws: Socket): void;
}

let nextSocketId = 1;

const quotas = new WeakMap<object, ConnectionQuota>();

/** Makes every upgrade on `server` count against `quota` (connections per client address). */
export function limitConnections(server: object, quota: ConnectionQuota): void {
  quotas.set(server, quota);
}

export interface UpgradeOptions {
  params?: Record<string, string>;
  principal?: Principal | undefined;
  /** Not counted against the connection limit (a socket accepted only to be closed at once). */
  uncounted?: boolean;
  /** The topic the route required publish permission on (see {@link SocketData.requirePublish}). */
  requirePublish?: string;
  /** The topic the route required subscribe permission on (see {@link SocketData.requireSubscribe}). */
  requireSubscribe?: string;
  /** The request's validated `?since=` (see `http/params.ts`). */
  since?: string | undefined;
}

/**
 * Upgrades `req` to a WebSocket handled by the behaviour registered for `kind`. Returns
 * `undefined` on success (Bun then owns the connection), or throws a 426 for plain HTTP.
 */
export function upgrade(req: BunRequest, server: AppServer, kind: string, opts: UpgradeOptions = {}): undefined {
  const quota = opts.uncounted ? undefined : quotas.get(server);
  const address = acquireAddress(quota, server.requestIP(req)?.address);
  const data: SocketData = {
    kind,
    id: nextSocketId++,
    params: opts.params ?? {},
    query: new URL(req.url).searchParams,
    since: opts.since,
    principal: opts.principal,
    closed: false,
    malformedWindow: 0,
    malformedCount: 0,
    ...(address !== undefined ? { address } : {}),
    ...(opts.requirePublish ? { requirePublish: opts.requirePublish } : {}),
    ...(opts.requireSubscribe ? { requireSubscribe: opts.requireSubscribe } : {}),
  };
  if (server.upgrade(req, { data })) return undefined;
  if (address !== undefined) quota!.release(address);
  throw new HttpError(426, "upgrade_required", "this endpoint speaks WebSocket; send an Upgrade: websocket request");
}

/**
 * Sends a reply (an ack, an error, an answer). One Bun drops (the socket is backed up past its
 * limit) closes the socket with 4008: a publisher must not be left without the ack of a stored
 * message, nor a client without its answer, without a word.
 */
export function sendJson(ws: Socket, value: unknown): void {
  if (ws.data.closed) return;
  if (ws.send(JSON.stringify(value)) === 0) closeSocket(ws, CloseCode.overflow, "backed up past the limit: a reply was dropped; reconnect");
}

export function sendError(ws: Socket, code: string, message: string, ref?: unknown): void {
  sendJson(ws, { op: "error", code, message, ...(ref !== undefined ? { ref } : {}) });
}

/** Closes `ws` once; later calls do nothing. */
export function closeSocket(ws: Socket, code: number, reason: string): void {
  if (ws.data.closed) return;
  ws.data.closed = true;
  ws.close(code, reason);
}

/**
 * Sends `frame`; whether it was not dropped. Bun answers 0 for a dropped frame and for an empty
 * one sent (a relay message may be ""): call it under the backpressure limit, where an empty
 * frame cannot be dropped.
 */
export function sendFrame(ws: Socket, frame: string): boolean {
  return ws.send(frame) !== 0 || frame.length === 0;
}
