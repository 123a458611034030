/**
 * The client: subscriptions by topic, a transport ({@link WsLink} or {@link SseLink}) that keeps
 * them flowing, and connection state events for UIs.
 * @module
 */
import { Backoff, type BackoffOptions } from "./backoff.ts";
import type { FrameHead, FrameOf, PresenceSnapshot, PublishAck } from "./frames.ts";
import type { ConnectionState, Link, LinkHost, StateDetail, Timing, WebSocketConstructor } from "./link.ts";
import { SseLink, type SseOpener } from "./sse-link.ts";
import { type SubscribeOptions, TickwireError, TopicState } from "./subscription.ts";
import { type TokenGetter, TokenSource } from "./token.ts";
import { endpoints } from "./urls.ts";
import { WsLink } from "./ws-link.ts";

export interface ConnectOptions {
  /** A fixed token (JWT). With auth off on the server, leave both out. */
  token?: string;
  /** Called for a token on each connect when the current one is missing or expiring, and before it expires. */
  getToken?: TokenGetter;
  /** `auto` (default): WebSocket when the environment has one, else SSE. */
  transport?: "auto" | "websocket" | "sse";
  /** A WebSocket constructor for environments without a global one (Node 20: the `ws` package). */
  WebSocket?: WebSocketConstructor;
  /** How SSE streams are opened; default: `EventSource` when there is one, else `fetch`. */
  sse?: SseOpener;
  backoff?: BackoffOptions;
  /** In-band ping period on WebSocket (ms); 0 disables. Default 20 000. */
  pingIntervalMs?: number;
  /**
   * A ping or subscribe unanswered this long (ms) means the path is dead: reconnect; a publish or
   * presence unanswered rejects `outcome_unknown` and a ping checks the path. Default 10 000.
   */
  requestTimeoutMs?: number;
}

export interface Subscription {
  readonly topic: string;
  /** The newest seq handed to `onMessage` (where a reconnect resumes). */
  readonly lastSeq: string | undefined;
  unsubscribe(): void;
}

export type StateListener = (state: ConnectionState, detail: StateDetail) => void;

export class Client {
  readonly #subs = new Map<string, TopicState<any>>();
  readonly #listeners = new Set<StateListener>();
  readonly #link: Link;
  #state: ConnectionState = "connecting";
  #detail: StateDetail = {};

  constructor(url: string, opts: ConnectOptions = {}) {
    const urls = endpoints(url);
    const timing: Timing = { pingIntervalMs: opts.pingIntervalMs ?? 20_000, requestTimeoutMs: opts.requestTimeoutMs ?? 10_000 };
    const host: LinkHost = {
      subs: this.#subs,
      tokens: new TokenSource(opts.token, opts.getToken),
      timing,
      newBackoff: () => new Backoff(opts.backoff),
      setState: (state, detail) => this.#setState(state, detail),
      frame: (frame) => this.#subs.get(frame.topic)?.frame(frame),
      notRecovered: (topic) => this.#subs.get(topic)?.notRecovered(),
      subscribeFailed: (topic, error) => {
        const sub = this.#subs.get(topic);
        this.#subs.delete(topic);
        sub?.handlers.onError?.(error);
      },
    };
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    const kind = opts.transport ?? "auto";
    if (kind === "websocket" && !WS) throw new TypeError("transport websocket: this environment has no WebSocket; pass options.WebSocket");
    this.#link = kind === "sse" || !WS ? new SseLink(host, urls, opts.sse) : new WsLink(host, (token) => urls.ws(token), WS);
    this.#link.start();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Calls `listener` on every state change (and once now with the current state); returns an unsubscribe. */
  onState(listener: StateListener): () => void {
    this.#listeners.add(listener);
    listener(this.#state, this.#detail);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Receives `topic`'s frames, each once and in order, across reconnects: every resume starts
   * after the last seq handed to `onMessage`. When that cannot be honoured, `onRecovered`
   * is called first (reload the state). One subscription per topic.
   */
  subscribe<T extends string>(topic: T, opts: SubscribeOptions<FrameOf<T>>): Subscription {
    if (this.#subs.has(topic)) throw new TickwireError("already_subscribed", `already subscribed to ${topic}`);
    const state = new TopicState<FrameOf<T> & FrameHead>(topic, opts as SubscribeOptions<FrameOf<T> & FrameHead>);
    this.#subs.set(topic, state);
    this.#link.added(topic);
    return {
      topic,
      get lastSeq() {
        return state.lastSeq;
      },
      unsubscribe: () => {
        if (this.#subs.get(topic) === state) this.unsubscribe(topic);
      },
    };
  }

  unsubscribe(topic: string): void {
    if (!this.#subs.delete(topic)) return;
    this.#link.removed(topic);
  }

  /**
   * Publishes `data` on `topic` (`chat`, `relay`) and resolves with its stored seq. Waits for
   * the connection up to the request timeout. Never retried: a connection lost before the
   * answer, or no answer within the request timeout, rejects with code `outcome_unknown` (the
   * message may or may not have been stored).
   */
  publish(topic: string, data: unknown): Promise<PublishAck> {
    return this.#link.publish(topic, data);
  }

  /** Who is subscribed to `topic` now (needs subscribe permission on it). */
  presence(topic: string): Promise<PresenceSnapshot> {
    return this.#link.presence(topic);
  }

  /** Closes the connection for good; the subscriptions end. */
  close(): void {
    this.#link.stop();
    this.#subs.clear();
  }

  #setState(state: ConnectionState, detail: StateDetail = {}): void {
    if (state === this.#state && state !== "disconnected") return;
    this.#state = state;
    this.#detail = detail;
    for (const listener of this.#listeners) listener(state, detail);
  }
}
