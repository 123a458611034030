/**
 * `GET /events`: Server-Sent Events. Each connection writes straight into its response's socket
 * buffer (a direct stream) and counts what piles up once the socket is backed up. Ephemeral
 * events are dropped while it is backed up; a durable event that does not fit ends the stream
 * with `event: overflow`, so the browser reconnects with `Last-Event-ID` and loses nothing.
 *
 * A disconnect shows up as `cancel()`, `req.signal` aborting or a `write` returning 0, so
 * clean-up is idempotent.
 *
 * Bun quirks handled here (seen on Bun 1.4.5): response headers go out only with the first body
 * chunk, so a comment is written at once; `Bun.serve`'s idle timeout (10 s) also cuts streaming
 * responses, so `server.timeout(req, 0)` disables it and `: ping` comments keep proxies awake.
 * @module
 */
import type { ReplayTarget, SseSink } from "../../core/hub.ts";
import { sseComment, sseEvent } from "../../core/frame.ts";
import { isSeq } from "../../core/seq.ts";
import { isTopic, topicFamily } from "../../core/topic.ts";
import { badRequest, HttpError } from "../../http/errors.ts";
import { canSubscribe } from "../../auth/access.ts";
import type { AppContext } from "../../app/context.ts";
import type { Feature } from "../../app/feature.ts";

const utf8 = new TextEncoder();

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

class SseConnection implements SseSink {
  readonly topics: string[];
  /**
   * The direct stream's controller: `write` hands bytes to the response's socket buffer and
   * returns a number while the socket keeps up (0 once the client has gone), or a promise once
   * it is backed up, settled when Bun has drained it; the bytes are accepted either way. Bun
   * flushes what was written at the end of the event-loop turn, so one `write` per event and no
   * `flush` costs about what a WebSocket send does (a default stream's `enqueue`, queue and read
   * loop cost ~10% more CPU per delivery: bench/fanout).
   */
  #writer: ReadableStreamDirectController | undefined;
  #closed = false;
  #cleanup: () => void;
  #ctx: AppContext;
  #queueBytes: number;
  /** Bytes written since the socket reported backpressure; 0 while it keeps up. */
  #backlog = 0;
  #ended: () => void = () => {};
  /** Settles when the connection is closed or abandoned: the end of the direct stream's `pull`. */
  readonly ended = new Promise<void>((resolve) => (this.#ended = resolve));

  constructor(ctx: AppContext, topics: string[], queueBytes: number, cleanup: () => void) {
    this.#ctx = ctx;
    this.topics = topics;
    this.#queueBytes = queueBytes;
    this.#cleanup = cleanup;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting behind a backed-up socket (0 when it keeps up). */
  get backlog(): number {
    return this.#backlog;
  }

  bind(writer: ReadableStreamDirectController): void {
    this.#writer = writer;
  }

  #write(data: string | Uint8Array, bytes: number): void {
    let result: number | Promise<number>;
    try {
      result = this.#writer!.write(data);
    } catch {
      this.abandon();
      return;
    }
    if (result === 0 && bytes > 0) {
      this.abandon(); // the client has gone
      return;
    }
    if (typeof result === "number") return;
    // Backed up: count what goes on piling up until Bun reports the buffer flushed. Every write
    // of one backed-up stretch returns the same promise, and a new stretch starts only after it
    // has settled, so one handler per stretch is enough.
    if (this.#backlog === 0) {
      result.then(
        () => (this.#backlog = 0),
        () => this.abandon(),
      );
    }
    this.#backlog += bytes;
  }

  /** Writes raw text (comments, control events) regardless of backpressure. */
  writeText(text: string): void {
    if (this.#closed || !this.#writer) return;
    this.#write(text, text.length);
  }

  send(chunk: Uint8Array, ephemeral: boolean, family: string): void {
    if (this.#closed || !this.#writer) return;
    if (this.#backlog > 0) {
      if (ephemeral) {
        this.#ctx.metrics.dropped(family, "backpressure", 1);
        return;
      }
      if (this.#backlog + chunk.byteLength > this.#queueBytes) {
        this.#ctx.metrics.dropped(family, "overflow", 1);
        this.overflow();
        return;
      }
    }
    this.#write(chunk, chunk.byteLength);
  }

  /** Ends the stream with `event: overflow`; the browser reconnects with `Last-Event-ID`. */
  overflow(): void {
    if (this.#closed) return;
    this.writeText(`event: overflow\ndata: {"op":"overflow","message":"stream fell behind; reconnect with Last-Event-ID"}\n\n`);
    this.close();
  }

  /** Ends the stream (idempotent) and unregisters from the hub. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cleanup();
    try {
      this.#writer?.close();
    } catch {}
    this.#ended();
  }

  /** Called when the client went away: no more writes, just clean-up. */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cleanup();
    this.#ended();
  }
}

function sseReplayTarget(ctx: AppContext, conn: SseConnection, topic: string): ReplayTarget {
  return {
    send(frame, seq, ephemeral) {
      if (conn.closed) return false;
      conn.send(utf8.encode(sseEvent(seq, frame)), ephemeral, topicFamily(topic));
      return !conn.closed;
    },
    notRecovered() {
      conn.writeText(`event: recovered\ndata: ${JSON.stringify({ op: "recovered", topic, recovered: false })}\n\n`);
    },
    goLive() {
      ctx.hub.addSse(topic, conn);
    },
    overflowed() {
      conn.overflow();
    },
    get closed() {
      return conn.closed;
    },
  };
}

/** The SSE transport: the `/events` route plus its connections, for counting and shutdown. */
export function sseFeature(ctx: AppContext, opts: SseOptions) {
  const connections = new Set<SseConnection>();
  let pinger: ReturnType<typeof setInterval> | undefined;

  const handle = async (req: Request, server: { timeout(req: Request, seconds: number): void }): Promise<Response> => {
    const url = new URL(req.url);
    const rawTopics = url.searchParams.get("topics") ?? "chat";
    const topics = [...new Set(rawTopics.split(",").map((t) => t.trim()).filter(Boolean))];
    if (topics.length === 0 || topics.length > 64) throw badRequest("topics: give 1..64 comma-separated topic names", "topics");
    for (const topic of topics) {
      if (!isTopic(topic)) throw badRequest(`topics: ${JSON.stringify(String(topic).slice(0, 140))} is not a topic name ([A-Za-z0-9:_-]{1,128})`, "topics");
    }
    const principal = await ctx.auth.principal(req);
    for (const topic of topics) {
      if (!canSubscribe(principal, topic)) throw new HttpError(403, "forbidden", `topics: not allowed to subscribe to ${topic}`, "topics");
    }
    const lastEventId = req.headers.get("last-event-id") ?? url.searchParams.get("lastEventId") ?? undefined;
    if (lastEventId !== undefined && lastEventId !== "" && !isSeq(lastEventId)) {
      throw badRequest("Last-Event-ID: expected a seq like 1700000000000-0", "Last-Event-ID");
    }
    const since = lastEventId || undefined;
    const targets = new Map<string, ReplayTarget>();
    const conn: SseConnection = new SseConnection(ctx, topics, opts.queueBytes, () => {
      connections.delete(conn);
      for (const topic of topics) {
        ctx.hub.removeSse(topic, conn);
        const target = targets.get(topic);
        if (target) ctx.hub.cancelReplay(topic, target);
      }
      ctx.log.debug({ clientId: url.searchParams.get("client_id"), topics }, "sse closed");
    });
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
        for (const topic of topics) {
          if (since === undefined) {
            ctx.hub.addSse(topic, conn);
            continue;
          }
          const target = sseReplayTarget(ctx, conn, topic);
          targets.set(topic, target);
          ctx.hub.replay(topic, since, target).catch((error: unknown) => {
            ctx.log.warn({ err: String(error), topic }, "sse replay failed");
            conn.close();
          });
        }
        // The response lasts as long as this pull: until the server or the client ends it.
        await conn.ended;
      },
      cancel() {
        conn.abandon();
      },
    });
    req.signal.addEventListener("abort", () => conn.abandon(), { once: true });
    ctx.log.debug({ clientId: url.searchParams.get("client_id"), topics, since }, "sse opened");
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      },
    });
  };

  return {
    feature: {
      name: "sse",
      routes: { "/events": { GET: (req, server) => handle(req, server) } },
      start() {
        pinger = setInterval(() => {
          const ping = sseComment("ping");
          for (const conn of connections) conn.writeText(ping);
        }, opts.pingMs);
      },
      stop() {
        if (pinger) clearInterval(pinger);
        for (const conn of connections) conn.close();
      },
    } satisfies Feature,
    /** Open SSE connections. */
    get count(): number {
      return connections.size;
    },
    /** Ends every stream (shutdown). */
    closeAll(): void {
      for (const conn of connections) conn.close();
    },
  };
}
