/**
 * The query and header parameters several endpoints share, parsed in one place: `since` (a seq
 * to resume after) and `topics` (a comma-separated list).
 * @module
 */
import { isSeq } from "../core/seq.ts";
import { isTopic } from "../core/topic.ts";
import { badRequest } from "./errors.ts";

/** Topics one connection may name in `?topics=`. */
export const MAX_TOPICS_PARAM = 64;

/**
 * A resume offset from a query parameter or header: `undefined` when absent or empty, 400 when
 * it is not a seq, so a client that thinks it resumed never silently goes live with a gap.
 */
export function parseSince(value: string | null | undefined, field = "since"): string | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  if (!isSeq(value)) throw badRequest(`${field}: ${JSON.stringify(String(value).slice(0, 40))} is not a seq ("<ms>-<n>", e.g. 1700000000000-0)`, field);
  return value;
}

/** `?since=` of `req`. */
export function sinceParam(req: Request): string | undefined {
  return parseSince(new URL(req.url).searchParams.get("since"));
}

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
