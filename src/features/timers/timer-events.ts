/**
 * The durable `timers` topic: its name, and the outbox's figures for `/metrics`. Events reach it
 * through the outbox publisher (`outbox-publisher.ts`).
 * @module
 */
import type { TimerStore } from "./timer-store.ts";

/** The durable root topic of timer events (the hub derives `timer:<id>` and `session:<sessionId>`). */
export const TIMERS_TOPIC = "timers";

/** Unpublished events in `store`'s outbox, and the age of the oldest in seconds, for `/metrics`. */
export async function outboxGauges(store: TimerStore, now: number): Promise<{ depth: number; oldestSeconds: number }> {
  const { depth, oldestAt } = await store.outboxStats();
  return { depth, oldestSeconds: oldestAt === undefined ? 0 : Math.max(0, (now - oldestAt) / 1000) };
}
