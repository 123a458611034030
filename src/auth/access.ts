/**
 * Topic permissions: a principal's `publish` / `subscribe` lists hold topic patterns where `*`
 * matches any run of characters. No principal means auth is off and everything is allowed.
 * @module
 */
import type { Principal } from "./principal.ts";

const compiled = new Map<string, RegExp>();
const PRESENCE_PREFIX = "presence:";

export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === "*") return true;
  if (!pattern.includes("*")) return pattern === topic;
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    if (compiled.size < 10_000) compiled.set(pattern, re);
  }
  return re.test(topic);
}

/**
 * Who may subscribe to a topic may also see who is on it: `presence:<topic>` (its join/leave
 * frames) is allowed by a subscribe permission on `<topic>` as well as on itself.
 */
export function canSubscribe(principal: Principal | undefined, topic: string): boolean {
  if (!principal || principal.subscribe.some((p) => topicMatches(p, topic))) return true;
  if (!topic.startsWith(PRESENCE_PREFIX)) return false;
  const subject = topic.slice(PRESENCE_PREFIX.length);
  return principal.subscribe.some((p) => topicMatches(p, subject));
}

export function canPublish(principal: Principal | undefined, topic: string): boolean {
  return !principal || principal.publish.some((p) => topicMatches(p, topic));
}
