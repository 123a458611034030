import type { Auth } from "../auth/auth.ts";
import type { Clock } from "../core/clock.ts";
import type { ConnectionQuota } from "../core/connection-quota.ts";
import { HttpError, jsonResponse } from "../http/errors.ts";
import { routeTable, wrapHandler } from "../http/routes.ts";
import type { Metrics } from "../infra/metrics.ts";
import type { Logger } from "../log.ts";
import { admitOp } from "../transports/ws/client-frames.ts";
import {
  type AppServer,
  CloseCode,
  closeSocket,
  limitConnections,
  type Socket,
  type SocketBehavior,
  type SocketData,
  sendJson,
} from "../transports/ws/socket.ts";
import { armExpiry, disarmExpiry, EXPIRED_REASON, expired, type RefreshOp, refreshError, refreshOp, refreshReply } from "../transports/ws/token-expiry.ts";
import type { WsTransport } from "../transports/ws/ws-transport.ts";
import { DENIED, deniedUpgrade } from "./denied-upgrade.ts";
import type { Feature } from "./feature.ts";

/**
 * How long a shutdown waits at most for the HTTP requests in flight to be answered: main.ts's 5 s
 * budget less `SHUTDOWN_DELAY_MS` (its maximum, 4000, leaves none) and a second for the rest.
 */
export function requestDrainMs(shutdownDelayMs: number): number {
  return Math.max(0, Math.min(2000, 4000 - shutdownDelayMs));
}

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
  /** Verifies refreshed tokens (`{"op":"refresh"}`). */
  auth: Auth;
  clock: Clock;
  /** Frames a socket may send a second (`WS_OPS_PER_SECOND`). */
  opsPerSecond: number;
  /** Connections per client address, shared with SSE. */
  quota: ConnectionQuota;
}

export interface RunningServer {
  server: AppServer;
  /** Closes every WebSocket with 1001, then stops accepting; resolves when Bun has stopped. */
  /** Closes every socket and stops the server, answering the requests in flight for up to `requestsMs` first. */
  drain(requestsMs: number): Promise<void>;
}

export function createServer(features: readonly Feature[], opts: ServerOptions): RunningServer {
  const { log, metrics, ws: transport } = opts;
  const onOpRefused = () => metrics.limitRefusals.inc({ limit: "ws_ops" });
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

  /**
   * Answers a refresh op. On a publishing endpoint refresh ops count against `WS_OPS_PER_SECOND`
   * (its messages have their own limit); one that replies in order (`replyInOrder`) answers every
   * refused one `rate_limited` in its turn, since a dropped reply would shift every later reply
   * onto the wrong frame. Elsewhere past the limit one error and the rest dropped, as any op.
   */
  const answerRefresh = (ws: Socket, behavior: SocketBehavior | undefined, op: RefreshOp, now: number): void => {
    const inOrder = behavior?.replyInOrder;
    if (behavior?.frames === "publishes" && !admitOp(ws, now, opts.opsPerSecond, onOpRefused, !inOrder)) {
      if (!inOrder || ws.data.closed) return;
      const message = `refresh: more than ${opts.opsPerSecond} ops a second on this socket (WS_OPS_PER_SECOND); retry later`;
      return inOrder(ws, Promise.resolve(refreshError(op, "rate_limited", message)));
    }
    const reply = refreshReply(ws, op, opts.auth, opts.clock);
    if (inOrder) return inOrder(ws, reply);
    reply.then(
      (frame) => frame && sendJson(ws, frame),
      (err: unknown) => log.warn({ err, socket: ws.data.id }, "token refresh failed"),
    );
  };

  const server: AppServer = Bun.serve<SocketData>({
    port: opts.port,
    hostname: opts.hostname,
    reusePort: opts.reusePort ?? false,
    // Bodies are limited to 64 KiB by `readJson` (413 JSON, never buffering past 64 KiB; Bun
    // discards the unread rest, see body.ts). This is only Bun's hard stop: a declared
    // Content-Length over 1 GiB gets Bun's bare 413 + `Connection: close` before any handler
    // (Node's fetch then sees EPIPE). Chunked bodies are not cut by it once answered.
    maxRequestBodySize: 1024 * 1024 * 1024,
    routes: routes as never,
    fetch: notFound as never,
    error(error) {
      log.error({ err: error }, "unhandled server error");
      return jsonResponse({ error: { code: "internal", message: "internal server error" } }, 500);
    },
    websocket: {
      backpressureLimit: opts.backpressureLimit,
      // Frames beyond 64 KiB (and an op's envelope) are refused by endpoints with an error frame,
      // before they are parsed (`client-frames.ts`); this is the hard cap.
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
        armExpiry(ws, opts.clock);
        log.debug({ socket: ws.data.id, kind: ws.data.kind }, "ws open");
        // The token expired since it was verified: the socket is closing already, and its close
        // handler may have cleared its (empty) subscriptions, so the endpoint must not subscribe it.
        if (ws.data.closed) return;
        behaviors.get(ws.data.kind)?.open?.(ws);
      },
      message(ws, message) {
        try {
          const behavior = behaviors.get(ws.data.kind);
          const now = opts.clock.now();
          if (expired(ws, now)) return closeSocket(ws, CloseCode.unauthorized, EXPIRED_REASON);
          // Every frame counts as an op, before it is parsed; on a publishing endpoint only refresh
          // ops do (each one verifies a signature: `answerRefresh`), its messages having their own limit.
          const publishes = behavior?.frames === "publishes";
          if (!publishes && !admitOp(ws, now, opts.opsPerSecond, onOpRefused)) return;
          const op = refreshOp(message);
          if (op) return answerRefresh(ws, behavior, op, now);
          behavior?.message?.(ws, message);
          metrics.wsMessages.inc({ kind: ws.data.kind, outcome: "handled" });
        } catch (error) {
          metrics.wsMessages.inc({ kind: ws.data.kind, outcome: "failed" });
          log.error({ err: error, socket: ws.data.id, kind: ws.data.kind }, "ws message handler failed");
        }
      },
      drain(ws) {
        behaviors.get(ws.data.kind)?.drain?.(ws);
      },
      close(ws, code, reason) {
        transport.closed(ws);
        disarmExpiry(ws);
        if (ws.data.address !== undefined) opts.quota.release(ws.data.address);
        log.debug({ socket: ws.data.id, kind: ws.data.kind, code }, "ws close");
        behaviors.get(ws.data.kind)?.close?.(ws, code, reason);
      },
    },
  });
  transport.bind(server);
  limitConnections(server, opts.quota);

  return {
    server,
    async drain(requestsMs) {
      transport.closeAll(CloseCode.goingAway, "server shutting down");
      // Requests in flight are answered first: one cut off (ECONNRESET) may have been carried out,
      // and a client that retries it stores a chat post twice. `stop()` can wait forever on open
      // sockets (Bun 1.4); ours are closed, and after `requestsMs` the rest is forced.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), requestsMs)));
      const forced = await Promise.race([server.stop(false).then(() => false), late]);
      clearTimeout(timer);
      if (forced) await server.stop(true);
    },
  };
}
