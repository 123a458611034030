/**
 * Topic permissions: a principal's `publish` / `subscribe` lists hold topic patterns where `*`
 * matches any run of characters. No principal means auth is off and everything is allowed.
 * @module
 */
import type { Principal } from "./principal.ts";

const compiled = new Map<string, RegExp>();

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

export function canSubscribe(principal: Principal | undefined, topic: string): boolean {
  return !principal || principal.subscribe.some((p) => topicMatches(p, topic));
}

export function canPublish(principal: Principal | undefined, topic: string): boolean {
  return !principal || principal.publish.some((p) => topicMatches(p, topic));
}
