/**
 * `?topics=`: a comma-separated list of topic names, parsed in one place for `/ws` and `/events`.
 * @module
 */
import { isTopic } from "../core/topic.ts";
import { badRequest } from "./errors.ts";

/** Topics one connection may name in `?topics=`. */
export const MAX_TOPICS_PARAM = 64;

/** `a, b,,a` → `["a", "b"]`: trimmed, empty names dropped, duplicates removed, order kept. */
export function splitTopics(raw: string): string[] {
  return [
    ...new Set(
      raw
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

/** Why `topic` is not a topic name, or `undefined` when it is one. */
export function topicProblem(topic: string, field = "topics"): string | undefined {
  if (isTopic(topic)) return undefined;
  return `${field}: ${JSON.stringify(String(topic).slice(0, 140))} is not a topic name ([A-Za-z0-9:_-]{1,128})`;
}

/** A whole `?topics=` list, or 400 naming the first bad name. `fallback` when absent. */
export function topicsParam(raw: string | null, fallback: string): string[] {
  const topics = splitTopics(raw ?? fallback);
  if (topics.length === 0 || topics.length > MAX_TOPICS_PARAM) {
    throw badRequest(`topics: give 1..${MAX_TOPICS_PARAM} comma-separated topic names`, "topics");
  }
  for (const topic of topics) {
    const problem = topicProblem(topic);
    if (problem) throw badRequest(problem, "topics");
  }
  return topics;
}
