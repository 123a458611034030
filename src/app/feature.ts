/**
 * What a feature (cron, timers, chat, relay, …) contributes to the server: HTTP routes,
 * WebSocket endpoint behaviours, its own API documentation, and a lifecycle. `main.ts` composes
 * features; the server only dispatches.
 * @module
 */
import type { ApiDocs } from "../http/api-docs.ts";
import type { RouteHandler as AnyRouteHandler, RouteMethods as AnyRouteMethods, Routes } from "../http/routes.ts";
import type { AppServer, SocketBehavior } from "../transports/ws/socket.ts";

export type RouteHandler = AnyRouteHandler<AppServer>;
export type RouteMethods = AnyRouteMethods<AppServer>;

export interface Feature {
  name: string;
  /** Route path (Bun syntax, `/timer/:id`) → method → handler. */
  routes?: Routes<AppServer>;
  /** Socket kind → behaviour. An upgrade route sets `kind` in the socket's data. */
  sockets?: Record<string, SocketBehavior>;
  /** What `/openapi.json` says of `routes`. */
  docs?: ApiDocs;
  start?(): void | Promise<void>;
  /** Releases what `start` took. Called in reverse composition order at shutdown. */
  stop?(): void | Promise<void>;
}
