/**
 * `{"op":"publish","topic":"relay","data":"text"}` on `/ws`: appends like a manager frame does,
 * through the same bounded ingest, and answers with the stored seq or the manager's error codes
 * (`too_large`, `overloaded`, `unavailable`) as a 4xx / 503 error.
 * @module
 */
import type { TopicPublisher } from "../../app/context.ts";
import { HttpError } from "../../http/errors.ts";
import type { RelayIngest } from "./ingest.ts";
import { relayMessageProblem } from "./message.ts";

export function relayPublisher(ingest: RelayIngest): TopicPublisher {
  return async (data) => {
    if (typeof data !== "string") throw new HttpError(400, "bad_request", "data: must be a string, the text to relay", "data");
    const problem = relayMessageProblem(data);
    if (problem) throw new HttpError(413, "too_large", problem.replace(/^message/, "data"), "data");
    const outcome = await ingest.submit(data);
    if (outcome.ok) return { seq: outcome.seq };
    if (outcome.code === "internal") throw new Error(outcome.message);
    throw new HttpError(503, outcome.code, outcome.message, undefined, { headers: { "Retry-After": "1" } });
  };
}
