/**
 * What a relay message is: the exact text a manager sent, at most {@link MAX_RELAY_BYTES} bytes
 * of UTF-8, stored on the `relay` topic as `{"message": text}`.
 * @module
 */

/** The durable topic every manager message is appended to (a Redis Stream in Redis mode). */
export const RELAY_TOPIC = "relay";

/**
 * The native pub/sub channel broadcasters listen on, carrying each message verbatim. The `#`
 * makes it an invalid topic name, so no client can subscribe to it through `/ws` ops and no
 * frame of a real topic can ever be published on it.
 */
export const RELAY_RAW_CHANNEL = "relay#raw";

/** Largest message accepted, in UTF-8 bytes (SPEC §4: text frames ≤ 64 KiB). */
export const MAX_RELAY_BYTES = 64 * 1024;

/**
 * Why `text` cannot be relayed, or `undefined` when it can. The byte length is only computed
 * when the string could exceed the limit (a UTF-16 unit encodes to at most 3 bytes).
 */
export function relayMessageProblem(text: string): string | undefined {
  if (text.length * 3 <= MAX_RELAY_BYTES) return undefined;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes <= MAX_RELAY_BYTES) return undefined;
  return `message: ${bytes} bytes exceeds the limit of ${MAX_RELAY_BYTES} bytes`;
}

/** The message inside a wrapped `relay` frame (`{"topic":"relay","seq","ts","message"}`). */
export function messageOfFrame(frame: string): string | undefined {
  const message = (JSON.parse(frame) as { message?: unknown }).message;
  return typeof message === "string" ? message : undefined;
}
