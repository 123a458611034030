/**
 * What the client and its transports (`ws-link.ts`, `sse-link.ts`) share: the connection states
 * a UI shows, and the host a transport reports to.
 * @module
 */
import type { Backoff } from "./backoff.ts";
import type { FrameHead, PresenceSnapshot, PublishAck } from "./frames.ts";
import type { TickwireError, TopicState } from "./subscription.ts";
import type { TokenSource } from "./token.ts";

export type ConnectionState = "connecting" | "connected" | "disconnected";

/** Why the connection is down, and whether the client tries again. */
export interface StateDetail {
  /** The close code (WebSocket), or the HTTP status that refused a stream. */
  code?: number;
  reason?: string;
  /** `false` after `close()`, or when the server refused the token and no `getToken` can renew it. */
  willRetry?: boolean;
  /** Delay before the next attempt (ms). */
  retryInMs?: number;
}

/** A constructor like the standard WebSocket (a browser's, Bun's, Node 22's, or the `ws` package). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Timing knobs, resolved. */
export interface Timing {
  /** Send an in-band ping this often when connected (0: never). */
  pingIntervalMs: number;
  /** A ping (or another request of the link's own) unanswered this long means the path is dead: reconnect. */
  requestTimeoutMs: number;
}

export interface LinkHost {
  readonly subs: ReadonlyMap<string, TopicState<any>>;
  readonly tokens: TokenSource;
  readonly timing: Timing;
  newBackoff(): Backoff;
  setState(state: ConnectionState, detail?: StateDetail): void;
  /** A topic frame arrived. */
  frame(frame: FrameHead): void;
  /** The server cannot replay `topic` from our seq. */
  notRecovered(topic: string): void;
  /** The server refused a subscription; it is dropped. */
  subscribeFailed(topic: string, error: TickwireError): void;
}

/** A transport: keeps the subscriptions of {@link LinkHost.subs} flowing, reconnecting as needed. */
export interface Link {
  start(): void;
  stop(): void;
  /** A subscription was added to the host's map. */
  added(topic: string): void;
  /** A subscription was removed from the host's map. */
  removed(topic: string): void;
  publish(topic: string, data: unknown): Promise<PublishAck>;
  presence(topic: string): Promise<PresenceSnapshot>;
}
