/**
 * Which copy of a timer an answer rests on. A change is computed from the map's copy (else hot
 * state's, else the database's), which can be stale: another instance changed the timer and its
 * event has not arrived yet (the `timers` log is slow or down), or this instance's last write had
 * an unknown outcome and may still commit. A real change is safe anyway (its write is
 * conditional on the version), but one that changes nothing writes nothing, so its answer must
 * be confirmed against the database first ({@link confirmUnchanged}); and the hot state, written
 * only after a commit, is never consulted for a timer whose last write is uncertain.
 * @module
 */
import { notFound } from "../../http/errors.ts";
import type { HotState } from "./hot-state.ts";
import { guardStore } from "./store-guard.ts";
import type { TimerMap } from "./timer-map.ts";
import type { TimerState } from "./timer-state.ts";
import type { IdempotentAnswer, TimerStore } from "./timer-store.ts";

export interface Lookup {
  store: TimerStore;
  hot: HotState;
  timers: TimerMap;
  /**
   * Timers whose hot-state copy is not to be trusted: their last write had an unknown outcome
   * (`uncertain-timers.ts`), or they were stopped and their hash's remove failed (`hot-writes.ts`).
   */
  uncertain: { has(id: number): boolean };
}

/** The timer from the map, else hot state (not for an `uncertain` timer), else the database; 404 when none has it. */
export async function findTimer(l: Lookup, id: number): Promise<TimerState> {
  const held = l.timers.state(id);
  if (held) return held;
  const hot = l.hot.shared && !l.uncertain.has(id) ? await l.hot.get(id).catch(() => undefined) : undefined;
  const t = hot ?? (await guardStore(() => l.store.get(id)));
  if (!t) throw notFound(`timer ${id} not found`);
  l.timers.adopt(t);
  return t;
}

/**
 * Whether `t`, from which a change came out "unchanged", is the database's current version (read
 * after any write to it still in flight). If not, the map takes the database's row and `false`
 * says: compute the change again; a row that is gone is a 404; a database that does not answer
 * is a 503, never the copy's answer. With `answer` (an `Idempotency-Key`), it is stored if so.
 */
export async function confirmUnchanged(l: Lookup, t: TimerState, answer?: IdempotentAnswer): Promise<boolean> {
  const current = await guardStore(() => (answer ? l.store.keep(t, answer) : l.store.getCurrent(t.id)));
  if (!current) {
    l.timers.delete(t.id);
    throw notFound(`timer ${t.id} not found`);
  }
  if (current.version === t.version) return true;
  l.timers.adopt(current, true);
  return false;
}
