/**
 * The resume offset several endpoints share (`?since=`, `Last-Event-ID`), parsed in one place;
 * `?topics=` is `topics-param.ts`.
 * @module
 */
import { isSeq } from "../core/seq.ts";
import { badRequest } from "./errors.ts";

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

export { MAX_TOPICS_PARAM, splitTopics, topicProblem, topicsParam } from "./topics-param.ts";
