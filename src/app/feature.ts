/**
 * What a feature (cron, timers, chat, relay) contributes to the server: HTTP routes, WebSocket
 * endpoint behaviours, and a lifecycle. `main.ts` composes features; the server only dispatches.
 * @module
 */
import type { BunRequest, Server, ServerWebSocket } from "bun";

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
  /** Topics this socket is subscribed to (live or replaying). */
  topics: Set<string>;
  /** The authenticated principal, when auth is on. */
  principal?: Principal;
  /** Replays in progress on this socket, by topic, so that they can be cancelled. */
  replays?: Map<string, import("../core/hub.ts").ReplayTarget>;
  /** Set once the socket is closing; replay targets check it. */
  closed: boolean;
  /** Malformed-frame rate limit: window start (ms) and count in the window. */
  malformedWindow: number;
  malformedCount: number;
}

/** Who is connected and what they may do (from a JWT, or everything when auth is off). */
export interface Principal {
  sub: string;
  publish: string[];
  subscribe: string[];
}

export type Socket = ServerWebSocket<SocketData>;
export type AppServer = Server<SocketData>;

export type RouteHandler = (req: BunRequest, server: AppServer) => Response | undefined | Promise<Response | undefined>;
export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
export type RouteMethods = Partial<Record<HttpMethod, RouteHandler>>;

/** What one WebSocket endpoint does with its sockets. */
export interface SocketBehavior {
  open?(ws: Socket): void;
  message?(ws: Socket, message: string | Buffer): void;
  close?(ws: Socket, code: number, reason: string): void;
}

export interface Feature {
  name: string;
  /** Route path (Bun syntax, `/timer/:id`) → method → handler. */
  routes?: Record<string, RouteMethods>;
  /** Socket kind → behaviour. An upgrade route sets `kind` in the socket's data. */
  sockets?: Record<string, SocketBehavior>;
  start?(): void | Promise<void>;
  /** Releases what `start` took. Called in reverse composition order at shutdown. */
  stop?(): void | Promise<void>;
}
