/**
 * `GET /messages?since=&limit=`: its query parameters, validated, naming the wrong one.
 * @module
 */
import { badRequest } from "../../http/errors.ts";
import { parseSince } from "../../http/params.ts";
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from "./chat-service.ts";

/** Validates `GET /messages` query parameters, naming the wrong one. */
export function parseHistoryQuery(params: URLSearchParams): { since: string | undefined; limit: number } {
  const since = parseSince(params.get("since"));
  const rawLimit = params.get("limit");
  let limit = DEFAULT_HISTORY_LIMIT;
  if (rawLimit !== null && rawLimit !== "") {
    limit = Number(rawLimit);
    if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      throw badRequest(`limit: expected an integer 1..${MAX_HISTORY_LIMIT}`, "limit");
    }
  }
  return { since, limit };
}
