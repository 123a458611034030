/**
 * The SSE transport, for environments without WebSocket: one `/events` stream per topic, each
 * resuming from its own last seq (`lastEventId`), with its own backoff. A stream cannot renew
 * its token in-band, so before the token expires every stream is reopened with a new one,
 * from its last seq (nothing lost, nothing twice: the topic state drops what it already saw).
 * Publish and presence are HTTP calls (`POST /messages` for chat, `GET /presence/{topic}`).
 * @module
 */
import type { Backoff } from "./backoff.ts";
import type { FrameHead, PresenceSnapshot, PublishAck } from "./frames.ts";
import type { Link, LinkHost } from "./link.ts";
import { eventSourceOpener, fetchOpener, type SseOpener } from "./sse-stream.ts";
import { TickwireError } from "./subscription.ts";
import { refreshLead } from "./token.ts";
import type { Endpoints } from "./urls.ts";

export type { SseOpener } from "./sse-stream.ts";

/** No byte for this long on a fetch stream (the server pings every 15 s) means the path is dead. */
const IDLE_MS = 40_000;

interface Stream {
  topic: string;
  backoff: Backoff;
  open: boolean;
  /** The last attempt asked getToken for a new token (after a 401 or 403). */
  fresh: boolean;
  close?: () => void;
  retry?: ReturnType<typeof setTimeout>;
}

function defaultOpener(): SseOpener {
  const ES = (globalThis as { EventSource?: Parameters<typeof eventSourceOpener>[0] }).EventSource;
  return ES ? eventSourceOpener(ES) : fetchOpener(fetch, IDLE_MS);
}

export class SseLink implements Link {
  readonly #host: LinkHost;
  readonly #urls: Endpoints;
  readonly #open: SseOpener;
  readonly #streams = new Map<string, Stream>();
  #stopped = true;
  #renewal: ReturnType<typeof setTimeout> | undefined;

  constructor(host: LinkHost, urls: Endpoints, opener?: SseOpener) {
    this.#host = host;
    this.#urls = urls;
    this.#open = opener ?? defaultOpener();
  }

  start(): void {
    this.#stopped = false;
    for (const topic of this.#host.subs.keys()) this.added(topic);
    this.#report();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#renewal);
    for (const topic of [...this.#streams.keys()]) this.removed(topic);
    this.#host.setState("disconnected", { code: 1000, reason: "closed by the application", willRetry: false });
  }

  added(topic: string): void {
    if (this.#stopped || this.#streams.has(topic)) return;
    const stream: Stream = { topic, backoff: this.#host.newBackoff(), open: false, fresh: false };
    this.#streams.set(topic, stream);
    void this.#connect(stream);
  }

  removed(topic: string): void {
    const stream = this.#streams.get(topic);
    if (!stream) return;
    this.#streams.delete(topic);
    clearTimeout(stream.retry);
    stream.close?.();
    this.#report();
  }

  async publish(topic: string, data: unknown): Promise<PublishAck> {
    if (topic !== "chat")
      throw new TickwireError("not_publishable", `publish on ${topic} needs the WebSocket transport (over SSE only chat, by POST /messages)`);
    const body = (await this.#call("POST", "/messages", data)) as { seq?: unknown };
    return { topic, seq: String(body.seq) };
  }

  async presence(topic: string): Promise<PresenceSnapshot> {
    return (await this.#call("GET", `/presence/${encodeURIComponent(topic)}`)) as PresenceSnapshot;
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const token = await this.#host.tokens.current();
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    // Bounded as a WebSocket request is: a server that never answers must not hold the caller.
    const timeoutMs = this.#host.timing.requestTimeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    const unknown = (error: unknown) =>
      new TickwireError(
        "outcome_unknown",
        signal.aborted ? `${method} ${path}: no answer within ${timeoutMs} ms; the outcome is unknown` : `${method} ${path}: ${(error as Error).message}`,
      );
    let res: Response;
    let json: { error?: { code?: string; message?: string } };
    try {
      res = await fetch(this.#urls.http(path), { method, headers, signal, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      json = (await res.json().catch((error: unknown) => {
        if (signal.aborted) throw error;
        return {};
      })) as typeof json;
    } catch (error) {
      throw unknown(error);
    }
    if (!res.ok) throw new TickwireError(json.error?.code ?? `http_${res.status}`, json.error?.message ?? `${method} ${path}: ${res.status}`);
    return json;
  }

  /** Opens `stream`; `fresh`: ask for a new token first; `quiet`: a renewal, not shown as connecting. */
  async #connect(stream: Stream, fresh = false, quiet = false): Promise<void> {
    if (this.#streams.get(stream.topic) !== stream) return;
    if (!quiet) this.#report();
    let token: string | undefined;
    try {
      token = fresh ? await this.#host.tokens.fresh() : await this.#host.tokens.current();
    } catch {
      return this.#failed(stream, undefined);
    }
    if (this.#streams.get(stream.topic) !== stream) return;
    stream.fresh = fresh;
    if (this.#renewal === undefined) this.#scheduleRenewal();
    const since = this.#host.subs.get(stream.topic)?.resume();
    const { close } = this.#open(this.#urls.events(stream.topic, since, token), {
      open: () => {
        if (this.#streams.get(stream.topic) !== stream) return;
        stream.open = true;
        this.#report();
        this.#host.subs.get(stream.topic)?.handlers.onSubscribed?.({ topic: stream.topic, since });
      },
      event: (type, data) => this.#event(stream, type, data),
      error: (status) => this.#failed(stream, status),
    });
    stream.close = close;
  }

  #event(stream: Stream, type: string, data: string): void {
    // A stream closed (unsubscribed) may still deliver what it had read: it is no longer the topic's.
    if (this.#streams.get(stream.topic) !== stream) return;
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(data) as Record<string, unknown>;
    } catch {}
    if (type === "message") {
      if (!json || typeof json.topic !== "string" || typeof json.seq !== "string") return;
      stream.backoff.reset();
      return this.#host.frame(json as unknown as FrameHead);
    }
    if (type === "recovered") return this.#host.notRecovered(stream.topic);
    // Where a stream opened without a seq starts: a reconnect before any event resumes from it.
    if (type === "position") return void (json && this.#host.subs.get(stream.topic)?.acked(json));
    // overflow, token_expired, error: the server ends the stream; resume from the last seq.
    this.#failed(stream, type === "token_expired" ? 401 : undefined);
  }

  #failed(stream: Stream, status: number | undefined): void {
    if (this.#streams.get(stream.topic) !== stream) return;
    stream.close?.();
    stream.open = false;
    const auth = status === 401 || status === 403;
    // A 401 (bad or expired token) is retried with a new token from getToken, as long as there is
    // one. A 403 (the token lacks the topic) is retried once with a new token, then it is final:
    // the topic's handlers get onError and its stream stops (it was retried forever). A 400 or
    // 422 (a bad topic or offset) is final at once, as the same subscribe is on WebSocket:
    // retrying cannot change the answer (a 404 or 421 may be an ingress mid-deploy: retried).
    const refused = status === 400 || status === 422;
    if (refused || (auth && (!this.#host.tokens.renewable || (status === 403 && stream.fresh)))) {
      this.#streams.delete(stream.topic);
      const sub = this.#host.subs.get(stream.topic);
      const code = status === 401 ? "unauthorized" : status === 403 ? "forbidden" : "bad_request";
      this.#host.subscribeFailed(stream.topic, new TickwireError(code, `GET /events answered ${status}`));
      if (sub) this.#report();
      return;
    }
    const retryInMs = stream.backoff.next();
    this.#host.setState("disconnected", { ...(status === undefined ? {} : { code: status }), willRetry: true, retryInMs });
    stream.retry = setTimeout(() => void this.#connect(stream, auth), retryInMs);
  }

  /** Every stream open: connected; any still opening: connecting. */
  #report(): void {
    if (this.#stopped) return;
    const all = [...this.#streams.values()];
    this.#host.setState(all.every((s) => s.open) ? "connected" : "connecting");
  }

  /** Before the token expires, every stream reopens with a new one (SSE has no in-band refresh). */
  #scheduleRenewal(): void {
    clearTimeout(this.#renewal);
    this.#renewal = undefined;
    const tokens = this.#host.tokens;
    const exp = tokens.expiresAt;
    if (exp === undefined || !tokens.renewable || this.#stopped) return;
    const now = Date.now();
    this.#renewal = setTimeout(() => void this.#renew(), Math.max(1000, exp - now - refreshLead(exp, now)));
  }

  async #renew(): Promise<void> {
    this.#renewal = undefined;
    let renewed = false;
    try {
      renewed = await this.#host.tokens.renew();
    } catch {}
    // No newer token: the streams end at exp (token_expired) and reconnect with whatever there is then.
    if (!renewed || this.#stopped) return;
    for (const stream of this.#streams.values()) {
      if (!stream.open) continue; // one reconnecting picks up the new token anyway
      stream.close?.();
      void this.#connect(stream, false, true);
    }
    this.#scheduleRenewal();
  }
}
