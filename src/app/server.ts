/**
 * The Bun server: serves the features' route tables (each handler wrapped once, see
 * `http/routes.ts`), dispatches WebSocket events to the behaviour named by each socket's
 * `kind`, registers sockets with the WS transport, and drains in the order Bun needs.
 * @module
 */
import type { BunRequest } from "bun";
import { HttpError, jsonResponse } from "../http/errors.ts";
import { routeTable, wrapHandler } from "../http/routes.ts";
import type { Metrics } from "../infra/metrics.ts";
import type { Logger } from "../log.ts";
import { type AppServer, CloseCode, type SocketBehavior, type SocketData, upgrade } from "../transports/ws/socket.ts";
import type { WsTransport } from "../transports/ws/ws-transport.ts";
import type { Feature } from "./feature.ts";

export interface ServerOptions {
  port: number;
  hostname: string;
  /** Allowed browser origins; `*` allows any. */
  allowedOrigins: string[];
  /** Bytes a WebSocket may buffer before Bun reports backpressure. */
  backpressureLimit: number;
  /** SO_REUSEPORT, so that several processes on one machine share `port`. */
  reusePort?: boolean;
  log: Logger;
  metrics: Metrics;
  /** The WebSocket transport: sockets are registered with it on open. */
  ws: WsTransport;
}

export interface RunningServer {
  server: AppServer;
  /** Closes every WebSocket with 1001, then stops accepting; resolves when Bun has stopped. */
  drain(): Promise<void>;
}

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
    upgrade(req, server, DENIED, { params: { code: String(code), reason: error.message.slice(0, 120) } });
    return true;
  } catch {
    return false;
  }
}

export function createServer(features: readonly Feature[], opts: ServerOptions): RunningServer {
  const { log, metrics, ws: transport } = opts;
  const behaviors = new Map<string, SocketBehavior>();
  for (const feature of features) {
    for (const [kind, behavior] of Object.entries(feature.sockets ?? {})) behaviors.set(kind, behavior);
  }
  const tableOptions = {
    allowedOrigins: opts.allowedOrigins,
    log,
    count: (route: string, method: string, status: number) => metrics.httpRequests.inc({ route, method, status }),
    answerUpgradeError: deniedUpgrade,
  };
  const routes = routeTable<AppServer>(
    features.map((f) => f.routes ?? {}),
    tableOptions,
  );
  const notFound = wrapHandler<AppServer>(
    "unmatched",
    "GET",
    (req) => {
      throw new HttpError(404, "not_found", `no route for ${req.method} ${new URL(req.url).pathname}`);
    },
    tableOptions,
  );

  const server: AppServer = Bun.serve<SocketData>({
    port: opts.port,
    hostname: opts.hostname,
    reusePort: opts.reusePort ?? false,
    // Bodies are limited to 64 KiB by the JSON reader (413 JSON); this is only the hard stop.
    maxRequestBodySize: 1024 * 1024,
    routes: routes as never,
    fetch: notFound as never,
    error(error) {
      log.error({ err: error }, "unhandled server error");
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
        transport.opened(ws);
        log.debug({ socket: ws.data.id, kind: ws.data.kind }, "ws open");
        behaviors.get(ws.data.kind)?.open?.(ws);
      },
      message(ws, message) {
        try {
          behaviors.get(ws.data.kind)?.message?.(ws, message);
          metrics.wsMessages.inc({ kind: ws.data.kind, outcome: "handled" });
        } catch (error) {
          metrics.wsMessages.inc({ kind: ws.data.kind, outcome: "failed" });
          log.error({ err: error, socket: ws.data.id, kind: ws.data.kind }, "ws message handler failed");
        }
      },
      close(ws, code, reason) {
        transport.closed(ws);
        log.debug({ socket: ws.data.id, kind: ws.data.kind, code }, "ws close");
        behaviors.get(ws.data.kind)?.close?.(ws, code, reason);
      },
    },
  });
  transport.bind(server);

  return {
    server,
    async drain() {
      transport.closeAll(CloseCode.goingAway, "server shutting down");
      // `stop()` can wait forever on open sockets (Bun 1.4); ours are closed, so force the rest.
      await server.stop(true);
    },
  };
}
