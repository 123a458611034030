/**
 * `@tickwire/client`: a typed client for tickwire that never loses a message. It reconnects by
 * itself (exponential backoff with jitter), resumes every subscription from the last seq it
 * handed to the application, drops duplicates, and says `onRecovered({ recovered: false })`
 * when a resume cannot be honoured (so the application reloads its state). WebSocket by
 * default, SSE where there is none, the same API on both.
 *
 * @example
 * ```ts
 * import { connect } from "@tickwire/client";
 * const client = connect("https://tickwire.example", { getToken: () => fetchToken() });
 * client.onState((state) => console.log(state));
 * client.subscribe("chat", { onMessage: (m) => console.log(m.user, m.content), onRecovered: () => reload() });
 * await client.publish("chat", { content: "hello" });
 * ```
 * @module
 */
import { Client, type ConnectOptions } from "./client.ts";

export type { BackoffOptions } from "./backoff.ts";
export { Client, type ConnectOptions, type StateListener, type Subscription } from "./client.ts";
export type * from "./frames.ts";
export type { ConnectionState, StateDetail, WebSocketConstructor } from "./link.ts";
export { compareSeq, isSeq } from "./seq.ts";
export { eventSourceOpener, fetchOpener, type SseOpener, type StreamHandlers } from "./sse-stream.ts";
export { type RecoveryInfo, type SubscribeOptions, TickwireError } from "./subscription.ts";
export type { TokenGetter } from "./token.ts";

/** Connects to the tickwire server at `url` (its base URL: `https://host`, `ws://host:8080`, `/`). */
export function connect(url: string, opts: ConnectOptions = {}): Client {
  return new Client(url, opts);
}
