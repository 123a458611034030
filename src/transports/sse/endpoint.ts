/**
 * `GET /events`: Server-Sent Events on one or more topics, resuming after `Last-Event-ID` (or
 * `?lastEventId=`) through the same subscribe path as every WebSocket endpoint.
 *
 * Bun quirks handled here (seen on Bun 1.4.5): response headers go out only with the first body
 * chunk, so a comment is written at once; `Bun.serve`'s idle timeout (10 s) also cuts streaming
 * responses, so `server.timeout(req, 0)` disables it and `: ping` comments keep proxies awake.
 * @module
 */
import { canSubscribe } from "../../auth/access.ts";
import type { Auth } from "../../auth/auth.ts";
import { type Clock, runAt } from "../../core/clock.ts";
import type { ConnectionQuota } from "../../core/connection-quota.ts";
import { sseComment } from "../../core/frame.ts";
import type { HubMetrics } from "../../core/hub-metrics.ts";
import type { ReplayBudget } from "../../core/replay-limits.ts";
import { compareSeq } from "../../core/seq.ts";
import { type Replayer, Subscriptions } from "../../core/subscriptions.ts";
import { acquireAddress } from "../../http/address-limit.ts";
import { HttpError } from "../../http/errors.ts";
import { parseSince, topicsParam } from "../../http/params.ts";
import type { Routes } from "../../http/routes.ts";
import type { Logger } from "../../log.ts";
import { SseConnection } from "./connection.ts";
import { sseDocs } from "./sse-docs.ts";
import { sseSubscriber } from "./sse-subscriber.ts";
import type { SseTransport } from "./sse-transport.ts";

export interface SseOptions {
  /**
   * Bytes a connection may queue once its socket is backed up (the kernel buffer and Bun's
   * response buffer full). While backed up, ephemeral events are dropped; durable events are
   * queued up to this many bytes, and past that the stream ends with `event: overflow`.
   */
  queueBytes: number;
  /** `: ping` period in ms. */
  pingMs: number;
  /** Reconnect delay the browser is told to use (`retry:`). */
  retryMs: number;
}

export interface SseDeps {
  hub: Replayer;
  transport: SseTransport;
  auth: Auth;
  /** Streams are ended at their token's expiry on this clock. */
  clock: Clock;
  /** Connections per client address, shared with WebSocket. */
  quota?: ConnectionQuota;
  /** Topics one stream may name (`MAX_TOPICS_PER_CONNECTION`). */
  maxTopics?: number;
  /** Counts a request refused by a limit. */
  onLimit?: (limit: "topics_per_connection") => void;
  log: Logger;
  metrics: HubMetrics;
  /** Gives each stream its replay allowance. */
  replayBudget?: (sub: string | undefined) => ReplayBudget;
  /**
   * Where a stream opened without `Last-Event-ID` starts on each durable topic (the hub's
   * position), sent as `event: position` when asked (`?position=1`, opt-in so that generic SSE
   * readers see only what they saw before) so that a client without any event yet can resume.
   */
  position?: (topic: string) => { seq: string; epoch?: string } | undefined;
}

/** The part of Bun's server the endpoint uses. */
interface SseServer {
  timeout(req: Request, seconds: number): void;
  requestIP(req: Request): { address: string } | null;
}

/** At the token's expiry: a named event the client can act on, then the end of the stream. */
function endExpired(conn: SseConnection): void {
  conn.writeText(`event: token_expired\ndata: {"op":"error","code":"token_expired","message":"${EXPIRED_MESSAGE}"}\n\n`);
  conn.close();
}

function writePosition(conn: SseConnection, topic: string, at: { seq: string; epoch?: string } | undefined): void {
  if (at) conn.writeText(`event: position\ndata: ${JSON.stringify({ op: "position", topic, ...at })}\n\n`);
}

const EXPIRED_MESSAGE = "token expired; reconnect with a new token and Last-Event-ID";

/** The SSE transport's endpoint: the `/events` route plus its streams, for pings and shutdown. */
export function sseEndpoint(deps: SseDeps, opts: SseOptions) {
  const connections = new Set<SseConnection>();
  let pinger: ReturnType<typeof setInterval> | undefined;
  // Live events the transport holds for the end of the turn go out before any control event.
  const flushHeld = () => deps.transport.flush();

  const handle = async (req: Request, server: SseServer): Promise<Response> => {
    const url = new URL(req.url);
    let topics: string[];
    try {
      topics = topicsParam(url.searchParams.get("topics"), "chat", deps.maxTopics);
    } catch (error) {
      if (error instanceof HttpError && error.code === "limit_exceeded") deps.onLimit?.("topics_per_connection");
      throw error;
    }
    const principal = await deps.auth.principal(req);
    for (const topic of topics) {
      if (!canSubscribe(principal, topic)) throw new HttpError(403, "forbidden", `topics: not allowed to subscribe to ${topic}`, "topics");
    }
    // An empty header names no offset (a browser sends none before its first id): `?lastEventId=` then.
    const header = req.headers.get("last-event-id");
    const since = header ? parseSince(header, "Last-Event-ID") : parseSince(url.searchParams.get("lastEventId"), "lastEventId");
    const clientId = url.searchParams.get("client_id");
    const wantsPosition = url.searchParams.get("position") === "1";
    const address = acquireAddress(deps.quota, server.requestIP(req)?.address);
    let subscriptions: Subscriptions | undefined;
    let cancelExpiry: (() => void) | undefined;
    const conn: SseConnection = new SseConnection(
      deps.metrics,
      opts.queueBytes,
      () => {
        connections.delete(conn);
        cancelExpiry?.();
        if (address !== undefined) deps.quota!.release(address);
        subscriptions?.clear();
        // Back to Bun's idle timeout (10 s): a stream ended behind a reader that stopped reading
        // leaves its bytes in Bun's buffer, and without it the socket would stay open for good.
        server.timeout(req, 10);
        deps.log.debug({ clientId, topics }, "sse closed");
      },
      flushHeld,
    );
    subscriptions = new Subscriptions(deps.hub, sseSubscriber(conn, deps.transport, deps.log), deps.replayBudget?.(principal?.sub), principal?.sub);
    server.timeout(req, 0);
    const stream = new ReadableStream<Uint8Array>({
      type: "direct",
      async pull(writer) {
        conn.bind(writer);
        // Headers go out with the first body bytes: write and flush at once.
        conn.writeText(`: connected\n\nretry: ${opts.retryMs}\n\n`);
        writer.flush();
        if (conn.closed) return; // the client went away before the first bytes: register nothing
        connections.add(conn);
        if (principal?.exp !== undefined) cancelExpiry = runAt(deps.clock, principal.exp * 1000, () => endExpired(conn));
        // The token expired since it was verified: the stream has just ended, so subscribe nothing
        // (its cleanup has already run, and would never remove what this registered).
        if (conn.closed) return;
        conn.startAt(since ?? newestPosition(topics, deps.position), since !== undefined);
        // One `Last-Event-ID` for all: their replays are merged, so any id sent resumes them all.
        subscriptions.addAll(topics, { since });
        // Read in the same turn as the stream went live: every later entry arrives on it.
        if (since === undefined && wantsPosition) for (const topic of topics) writePosition(conn, topic, deps.position?.(topic));
        // The response lasts as long as this pull: until the server or the client ends it.
        await conn.ended;
      },
      cancel() {
        conn.abandon();
      },
    });
    req.signal.addEventListener("abort", () => conn.abandon(), { once: true });
    deps.log.debug({ clientId, topics, since }, "sse opened");
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      },
    });
  };

  const routes: Routes<SseServer> = { "/events": { GET: (req, server) => handle(req, server) } };
  return {
    name: "sse",
    routes,
    docs: sseDocs,
    start() {
      pinger = setInterval(() => {
        const ping = sseComment("ping");
        for (const conn of connections) conn.ping(ping);
      }, opts.pingMs);
    },
    stop() {
      if (pinger) clearInterval(pinger);
      flushHeld();
      for (const conn of connections) conn.close();
    },
    /** Open SSE connections. */
    get count(): number {
      return connections.size;
    },
    /** Ends every stream (shutdown). */
    closeAll(): void {
      flushHeld();
      for (const conn of connections) conn.close();
    },
  };
}

/** The newest position among `topics` with a history (a live stream has seen everything up to it); none without one. */
function newestPosition(topics: readonly string[], position: SseDeps["position"]): string | undefined {
  let newest: string | undefined;
  for (const topic of topics) {
    const at = position?.(topic)?.seq;
    if (at !== undefined && (newest === undefined || compareSeq(at, newest) > 0)) newest = at;
  }
  return newest;
}
