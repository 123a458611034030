/**
 * Topic names, and the families they belong to (used as metric labels so that per-timer and
 * per-session topics do not explode Prometheus cardinality).
 * @module
 */

export const TOPIC_RE = /^[A-Za-z0-9:_-]{1,128}$/;

export function isTopic(value: unknown): value is string {
  return typeof value === "string" && TOPIC_RE.test(value);
}

/** `timer:42` → `timer`, `session:abc` → `session`, `chat` → `chat`. */
export function topicFamily(topic: string): string {
  const i = topic.indexOf(":");
  return i === -1 ? topic : topic.slice(0, i);
}
