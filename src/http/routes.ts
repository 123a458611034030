/**
 * Route tables: path (Bun syntax, `/timer/:id`) → method → handler, and the one wrapper every
 * handler runs in (errors turned into JSON, CORS headers, request logs and metrics). Every path
 * answers 405 JSON for the methods it lacks, and CORS preflight.
 * @module
 */
import type { BunRequest } from "bun";
import type { Logger } from "../log.ts";
import { corsHeaders, refusedOrigin } from "./cors.ts";
import { errorResponse, HttpError } from "./errors.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
export const HTTP_METHODS: readonly HttpMethod[] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/** A handler gets the request and Bun's server (for upgrades and per-request timeouts). */
export type RouteHandler<S = unknown> = (req: BunRequest, server: S) => Response | undefined | Promise<Response | undefined>;
export type RouteMethods<S = unknown> = Partial<Record<HttpMethod, RouteHandler<S>>>;
export type Routes<S = unknown> = Record<string, RouteMethods<S>>;

export interface RouteTableOptions<S> {
  allowedOrigins: string[];
  log: Logger;
  /** Counts one answered request. */
  count(route: string, method: string, status: number): void;
  /**
   * Gives a failed WebSocket upgrade its own answer (a browser cannot read a refused
   * handshake's status); `true` when it did, so no HTTP response is sent.
   */
  answerUpgradeError?(req: BunRequest, server: S, error: unknown): boolean;
}

export type WrappedHandler<S> = (req: BunRequest, server: S) => Promise<Response | undefined>;

/** Wraps `handler` in error handling, the Origin check, CORS, logs and metrics. */
export function wrapHandler<S>(route: string, method: string, handler: RouteHandler<S>, opts: RouteTableOptions<S>): WrappedHandler<S> {
  return async (req, server) => {
    const started = performance.now();
    let response: Response | undefined;
    try {
      const refused = refusedOrigin(req, opts.allowedOrigins);
      response = refused ? errorResponse(refused) : await handler(req, server);
    } catch (error) {
      if (!(error instanceof HttpError)) opts.log.error({ err: error, route, method }, "request failed");
      response = opts.answerUpgradeError?.(req, server, error) ? undefined : errorResponse(error);
    }
    const status = response ? response.status : 101;
    opts.count(route, method, status);
    opts.log.debug({ route, method, status, ms: +(performance.now() - started).toFixed(2) }, "request");
    if (response) for (const [k, v] of Object.entries(corsHeaders(req, opts.allowedOrigins))) response.headers.set(k, v);
    return response;
  };
}

/** Merges route tables into Bun's `routes` option, every handler wrapped. */
export function routeTable<S>(tables: Iterable<Routes<S>>, opts: RouteTableOptions<S>) {
  const routes: Record<string, Partial<Record<HttpMethod | "OPTIONS", WrappedHandler<S>>>> = {};
  for (const table of tables) {
    for (const [path, methods] of Object.entries(table)) {
      const entry = (routes[path] ??= {});
      for (const method of HTTP_METHODS) {
        const handler = methods[method];
        if (handler) entry[method] = wrapHandler(path, method, handler, opts);
      }
    }
  }
  for (const [path, entry] of Object.entries(routes)) {
    const allowed = Object.keys(entry);
    for (const method of HTTP_METHODS) {
      entry[method] ??= wrapHandler<S>(
        path,
        method,
        () => {
          throw new HttpError(405, "method_not_allowed", `method: ${method} not allowed on ${path}; use ${allowed.join(", ")}`, "method");
        },
        opts,
      );
    }
    entry.OPTIONS = async (req) => new Response(null, { status: 204, headers: corsHeaders(req, opts.allowedOrigins) });
  }
  return routes;
}
