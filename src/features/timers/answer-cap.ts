/**
 * The bound on answers stored under `Idempotency-Key`s: at most `perOwner` per token `sub` (the
 * answer's `owner`), so one client sending a new key with every request cannot fill the memory
 * or the disk for the day the answers are kept. Past it, the owner's oldest answers go first,
 * but only those at least `keepMs` old (an hour): a retry within that hour always gets its
 * answer. An owner with `perOwner` answers younger than that is refused: 429
 * `limit_exceeded`, nothing changed. The stores check it in the change's own transaction, after
 * the answer's insert (so a key that already committed still answers as a replay).
 * @module
 */
import { createHash } from "node:crypto";
import { limitExceeded } from "../../http/errors.ts";

export interface AnswerCap {
  /** Answers one owner may have stored. */
  perOwner: number;
  /** How long an answer is kept even past the cap (ms). */
  keepMs: number;
  /** Called once per refused change (the `tickwire_limit_refusals_total` counter). */
  refused?: () => void;
}

/** An answer is kept at least an hour, whatever the cap. */
export const ANSWER_KEEP_MS = 3_600_000;

/** The `owner` column of a principal's answers: 32 hex of its `sub`'s SHA-256 (`""` anonymous). */
export function answerOwner(sub: string | undefined): string {
  return createHash("sha256")
    .update(sub ?? "")
    .digest("hex")
    .slice(0, 32);
}

/** How many of the owner's oldest answers must go for `stored` (the new one included) to fit; 0 if none. */
export function answersOver(cap: AnswerCap, stored: number): number {
  return Math.max(0, stored - cap.perOwner);
}

/** The refusal of a change whose answer does not fit (counted). */
export function answerCapRefusal(cap: AnswerCap): Error {
  cap.refused?.();
  return limitExceeded(
    `Idempotency-Key: this token has ${cap.perOwner} stored answers younger than an hour (IDEMPOTENCY_KEYS_PER_SUB); retry later or without a key`,
    "Idempotency-Key",
    60,
  );
}
