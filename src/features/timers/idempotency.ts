/**
 * `Idempotency-Key` on the timer changes (`POST /timer`, `PUT /timer/:id/...`): the first
 * request with a key stores its answer in the same transaction as its change; a repeat (a client
 * retrying after a timeout or a 504) gets that answer back, marked `Idempotent-Replayed: true`,
 * and changes nothing. The same key with another request body is refused with 422. Keys are
 * per principal (`sub`) and per route, and are kept a day, at most `IDEMPOTENCY_KEYS_PER_SUB` per
 * `sub` (`answer-cap.ts`).
 * @module
 */
import { createHash } from "node:crypto";
import type { BunRequest } from "bun";
import type { Principal } from "../../auth/principal.ts";
import { badRequest, HttpError, jsonResponse } from "../../http/errors.ts";
import { answerOwner } from "./answer-cap.ts";
import type { Idempotency, TimerService } from "./timer-service.ts";
import type { TimerView } from "./timer-state.ts";
import { AnswerExistsError } from "./timer-store.ts";

const KEY_RE = /^[\x21-\x7e]{1,128}$/;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export interface IdempotentChange {
  status: number;
  /** The response body for the changed timer. */
  render(view: TimerView): unknown;
  /** Runs the change, storing its answer when the request carried a key. */
  run(idem: Idempotency | undefined): Promise<TimerView>;
}

/**
 * Answers `req` with `change`, honouring its `Idempotency-Key`. `input` is the validated request
 * body (part of what the key must match).
 */
export async function idempotent(
  req: BunRequest,
  principal: Principal | undefined,
  timers: TimerService,
  input: unknown,
  change: IdempotentChange,
): Promise<Response> {
  const key = req.headers.get("idempotency-key");
  if (key === null) return jsonResponse(change.render(await change.run(undefined)), change.status);
  if (!KEY_RE.test(key)) throw badRequest("Idempotency-Key: expected 1..128 visible ASCII characters", "Idempotency-Key");
  const scope = `${req.method} ${new URL(req.url).pathname}`.slice(0, 96);
  const stored = sha256(`${principal?.sub ?? ""}\n${key}`);
  const requestHash = sha256(canonicalJson(input ?? null));
  const replay = async (): Promise<Response | undefined> => {
    const answer = await timers.answer(scope, stored);
    if (!answer) return undefined;
    if (answer.requestHash !== requestHash) {
      throw new HttpError(422, "idempotency_key_reused", "Idempotency-Key: already used for a different request body", "Idempotency-Key");
    }
    return new Response(answer.body, { status: answer.status, headers: { "Content-Type": "application/json", "Idempotent-Replayed": "true" } });
  };
  const earlier = await replay();
  if (earlier) return earlier;
  try {
    const view = await change.run({ scope, key: stored, owner: answerOwner(principal?.sub), requestHash, status: change.status, render: change.render });
    return jsonResponse(change.render(view), change.status);
  } catch (error) {
    // A concurrent request with the same key committed first: its answer is the answer. So too
    // when this one failed behind it (the timer it stopped is gone: 404; it finished it: 409):
    // the answer commits with the change, so one stored now is this key's.
    if (error instanceof AnswerExistsError) {
      const answer = await replay();
      if (answer) return answer;
    } else if (error instanceof HttpError && error.status < 500) {
      const answer = await replay().catch(() => undefined);
      if (answer) return answer;
    }
    throw error;
  }
}

/** JSON with every object's keys sorted: one body sent with its fields in another order is the same request. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
