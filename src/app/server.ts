/**
 * The Bun server: merges the features' routes behind one wrapper (errors, CORS, request logs and
 * metrics), dispatches WebSocket events to the behaviour named by each socket's `kind`, and
 * drains in the order Bun needs at shutdown.
 * @module
 */
import type { BunRequest } from "bun";
import { errorResponse, HttpError, jsonResponse } from "../http/errors.ts";
import type { AppContext } from "./context.ts";
import type { AppServer, Feature, HttpMethod, RouteHandler, Socket, SocketBehavior, SocketData } from "./feature.ts";
import type { WsFanout } from "../core/hub.ts";
import { CloseCode, closeSocket, upgrade } from "../transports/ws/socket.ts";

export interface ServerOptions {
  port: number;
  hostname: string;
  /** Allowed browser origins; `*` allows any. */
  allowedOrigins: string[];
  /** Bytes a WebSocket may buffer before Bun reports backpressure. */
  backpressureLimit: number;
  /** SO_REUSEPORT, so that several processes on one machine share `port`. */
  reusePort?: boolean;
}

export interface RunningServer {
  server: AppServer;
  /** The hub's view of native pub/sub, with per-socket handling of drops. */
  fanout: WsFanout;
  /** Open WebSocket connections. */
  readonly wsCount: number;
  /** Closes every WebSocket with 1001, then stops accepting; resolves when Bun has stopped. */
  drain(): Promise<void>;
}

const METHODS: HttpMethod[] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/** Socket kind of connections accepted only to be closed with an auth close code. */
const DENIED = "denied";

/**
 * A browser cannot read the HTTP status of a refused WebSocket handshake, so an upgrade refused
 * for auth (401/403) is accepted and closed at once with 4401/4403 and the reason.
 */
function deniedUpgrade(req: BunRequest, server: AppServer, error: unknown): boolean {
  if (!(error instanceof HttpError) || (error.status !== 401 && error.status !== 403)) return false;
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return false;
  const code = error.status === 401 ? CloseCode.unauthorized : CloseCode.forbidden;
  try {
    upgrade(req, server, DENIED, { code: String(code), reason: error.message.slice(0, 120) });
    return true;
  } catch {
    return false;
  }
}

/**
 * A browser WebSocket handshake from a page of another, not allowed origin is refused (403
 * JSON, not upgraded): browsers send cookies and credentials cross-site on upgrades, and no
 * CORS check protects them. Clients without `Origin` (not browsers) and pages served from this
 * same host are allowed.
 */
function refusedOrigin(req: Request, allowed: string[]): HttpError | undefined {
  const origin = req.headers.get("origin");
  if (!origin || allowed.includes("*") || allowed.includes(origin)) return undefined;
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  try {
    if (new URL(origin).host === req.headers.get("host")) return undefined;
  } catch {}
  return new HttpError(403, "origin_not_allowed", `Origin: ${origin.slice(0, 200)} is not in ALLOWED_ORIGINS`, "Origin");
}

function corsHeaders(req: Request, allowed: string[]): Record<string, string> {
  const origin = req.headers.get("origin");
  if (!origin) return {};
  if (!allowed.includes("*") && !allowed.includes(origin)) return {};
  return {
    "Access-Control-Allow-Origin": allowed.includes("*") ? "*" : origin,
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Last-Event-ID",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    Vary: "Origin",
  };
}

export function createServer(ctx: AppContext, features: Feature[], opts: ServerOptions): RunningServer {
  const sockets = new Set<Socket>();
  const behaviors = new Map<string, SocketBehavior>();
  for (const feature of features) {
    for (const [kind, behavior] of Object.entries(feature.sockets ?? {})) behaviors.set(kind, behavior);
  }

  const wrap = (route: string, method: HttpMethod, handler: RouteHandler) => {
    return async (req: BunRequest, server: AppServer): Promise<Response | undefined> => {
      const started = performance.now();
      let response: Response | undefined;
      try {
        const refused = refusedOrigin(req, opts.allowedOrigins);
        response = refused ? errorResponse(refused) : await handler(req, server);
      } catch (error) {
        if (!(error instanceof HttpError)) ctx.log.error({ err: error, route, method }, "request failed");
        response = deniedUpgrade(req, server, error) ? undefined : errorResponse(error);
      }
      const status = response ? response.status : 101;
      ctx.metrics.httpRequests.inc({ route, method, status });
      ctx.log.debug({ route, method, status, ms: +(performance.now() - started).toFixed(2) }, "request");
      if (response) for (const [k, v] of Object.entries(corsHeaders(req, opts.allowedOrigins))) response.headers.set(k, v);
      return response;
    };
  };

  const routes: Record<string, Partial<Record<HttpMethod | "OPTIONS", ReturnType<typeof wrap>>>> = {};
  for (const feature of features) {
    for (const [path, methods] of Object.entries(feature.routes ?? {})) {
      const table = (routes[path] ??= {});
      for (const method of METHODS) {
        const handler = methods[method];
        if (handler) table[method] = wrap(path, method, handler);
      }
    }
  }
  // Every route answers 405 JSON for methods it does not have, and CORS preflight.
  for (const [path, table] of Object.entries(routes)) {
    const allowed = Object.keys(table);
    for (const method of METHODS) {
      table[method] ??= wrap(path, method, () => {
        throw new HttpError(405, "method_not_allowed", `method: ${method} not allowed on ${path}; use ${allowed.join(", ")}`, "method");
      });
    }
    table.OPTIONS = async (req) => new Response(null, { status: 204, headers: corsHeaders(req, opts.allowedOrigins) });
  }

  const dispatch = (ws: Socket): SocketBehavior | undefined => behaviors.get(ws.data.kind);

  const server: AppServer = Bun.serve<SocketData>({
    port: opts.port,
    hostname: opts.hostname,
    reusePort: opts.reusePort ?? false,
    // Bodies are limited to 64 KiB by the JSON reader (413 JSON); this is only the hard stop.
    maxRequestBodySize: 1024 * 1024,
    routes: routes as never,
    fetch: wrap("unmatched", "GET", (req) => {
      throw new HttpError(404, "not_found", `no route for ${req.method} ${new URL(req.url).pathname}`);
    }) as never,
    error(error) {
      ctx.log.error({ err: error }, "unhandled server error");
      return jsonResponse({ error: { code: "internal", message: "internal server error" } }, 500);
    },
    websocket: {
      backpressureLimit: opts.backpressureLimit,
      // Frames beyond 64 KiB are refused by endpoints with an error frame; this is the hard cap.
      maxPayloadLength: 1024 * 1024,
      idleTimeout: 120,
      sendPings: true,
      open(ws) {
        if (ws.data.kind === DENIED) {
          ws.data.closed = true;
          ws.close(Number(ws.data.params.code), ws.data.params.reason);
          return;
        }
        sockets.add(ws);
        ctx.log.debug({ socket: ws.data.id, kind: ws.data.kind }, "ws open");
        dispatch(ws)?.open?.(ws);
      },
      message(ws, message) {
        try {
          dispatch(ws)?.message?.(ws, message);
          ctx.metrics.wsMessages.inc({ kind: ws.data.kind, outcome: "handled" });
        } catch (error) {
          ctx.metrics.wsMessages.inc({ kind: ws.data.kind, outcome: "failed" });
          ctx.log.error({ err: error, socket: ws.data.id, kind: ws.data.kind }, "ws message handler failed");
        }
      },
      close(ws, code, reason) {
        sockets.delete(ws);
        ws.data.closed = true;
        ctx.log.debug({ socket: ws.data.id, kind: ws.data.kind, code }, "ws close");
        dispatch(ws)?.close?.(ws, code, reason);
      },
    },
  });

  const fanout: WsFanout = {
    publish: (topic, data) => server.publish(topic, data),
    subscriberCount: (topic) => server.subscriberCount(topic),
    dropped(topic, bytes, ephemeral) {
      // Rare (only after Bun reported a drop), so a scan of the open sockets is fine here.
      let n = 0;
      for (const ws of sockets) {
        if (ws.data.closed || !ws.isSubscribed(topic) || ws.getBufferedAmount() + bytes <= opts.backpressureLimit) continue;
        n++;
        if (!ephemeral) closeSocket(ws, CloseCode.overflow, "backed up past the limit; reconnect with since");
      }
      if (n > 0) ctx.log.debug({ topic, sockets: n, ephemeral }, "frame dropped for backed-up sockets");
      return n;
    },
    closeSubscribers(match) {
      let n = 0;
      for (const ws of sockets) {
        if (ws.data.closed) continue;
        for (const topic of ws.data.topics) {
          if (!match(topic)) continue;
          closeSocket(ws, CloseCode.overflow, "missed events; reconnect with since");
          n++;
          break;
        }
      }
      return n;
    },
  };

  return {
    server,
    fanout,
    get wsCount() {
      return sockets.size;
    },
    async drain() {
      for (const ws of sockets) {
        ws.data.closed = true;
        ws.close(CloseCode.goingAway, "server shutting down");
      }
      // `stop()` can wait forever on open sockets (Bun 1.4); ours are closed, so force the rest.
      await server.stop(true);
    },
  };
}
