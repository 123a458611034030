/**
 * `?topics=`: a comma-separated list of topic names, parsed in one place for `/ws` and `/events`.
 * @module
 */
import { isTopic } from "../core/topic.ts";
import { badRequest, limitExceeded } from "./errors.ts";

const tooMany = (max: number) => limitExceeded(`topics: more than ${max} topics (MAX_TOPICS_PER_CONNECTION)`, "topics");

/** Topics one connection may name in `?topics=` unless configured otherwise. */
export const MAX_TOPICS_PARAM = 128;

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

/**
 * A whole `?topics=` list, or 400 naming the first bad name. `fallback` when absent. More than
 * `max` names (`MAX_TOPICS_PER_CONNECTION`) is a 429 `limit_exceeded`.
 */
export function topicsParam(raw: string | null, fallback: string, max = MAX_TOPICS_PARAM): string[] {
  if (raw !== null && raw.length > 130 * max) throw tooMany(max);
  const topics = splitTopics(raw ?? fallback);
  if (topics.length === 0) throw badRequest("topics: give at least one comma-separated topic name", "topics");
  if (topics.length > max) throw tooMany(max);
  for (const topic of topics) {
    const problem = topicProblem(topic);
    if (problem) throw badRequest(problem, "topics");
  }
  return topics;
}
