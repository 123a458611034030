/**
 * What a timer change writes besides the row, in the same transaction: its outbox events and,
 * under an `Idempotency-Key`, the answer a retry will get.
 * @module
 */
import { randomUUID } from "node:crypto";
import type { TimerEventType, TimerState, TimerView } from "./timer-state.ts";
import * as machine from "./timer-state.ts";
import type { IdempotentAnswer, OutboxEvent } from "./timer-store.ts";

/** A change made under an `Idempotency-Key`: the answer to store with it. */
export interface Idempotency {
  scope: string;
  key: string;
  /** The principal's `answerOwner`. */
  owner: string;
  requestHash: string;
  status: number;
  /** The response body for the timer as the change left it. */
  render(view: TimerView): unknown;
}

/** The outbox rows of a change by `instance` at `now` that leaves the timer as `t`. */
export function outboxEvents(types: readonly TimerEventType[], t: TimerState, instance: string, now: number, view = machine.toView(t, now)): OutboxEvent[] {
  const payload = JSON.stringify(view);
  const createdAt = Math.floor(now);
  return types.map((type) => ({ eventId: randomUUID(), timerId: t.id, version: t.version, type, payload, instance, createdAt }));
}

/** The stored answer of a change under `idem` (none without a key). */
export function idempotentAnswer(idem: Idempotency | undefined, now: number, view?: TimerView): IdempotentAnswer | undefined {
  if (!idem) return undefined;
  const { scope, key, owner, requestHash, status } = idem;
  return { scope, key, owner, requestHash, status, createdAt: Math.floor(now), body: (t) => JSON.stringify(idem.render(view ?? machine.toView(t, now))) };
}
