/**
 * The in-memory map of this instance's timers, each with what the per-tick path reuses instead
 * of rebuilding: its topics, its ISO dates and the cached JSON fragments of its `TIMER_UPDATE`.
 * It only holds state; the service decides what goes in (see `timer-service.ts`).
 * @module
 */
import { TIMERS_TOPIC } from "./timer-events.ts";
import type { TimerState, TimerView } from "./timer-state.ts";
import * as machine from "./timer-state.ts";

/** A timer in the map, with what the per-tick path reuses instead of rebuilding. */
export interface Entry {
  state: TimerState;
  /** `timer:<id>`, `session:<sessionId>`, `timers`: the topics of its events. */
  topics: readonly string[];
  createdIso: string;
  updatedIso: string;
  /** An expiry write is in flight; the tick does not start another. */
  expiring: boolean;
  /**
   * The per-tick `TIMER_UPDATE` body's JSON around `currentTime`, the only field that changes
   * between ticks: building `head + n + tail` is several times cheaper than `JSON.stringify`,
   * which matters with 10 000 timers per tick. Rebuilt whenever the state changes.
   */
  updateHead: string;
  updateTail: string;
}

/** The cached JSON fragments of `TIMER_UPDATE` for a timer (see {@link Entry}). */
export function updateFragments(t: TimerState, createdIso: string, updatedIso: string): { updateHead: string; updateTail: string } {
  return {
    updateHead: `{"type":"TIMER_UPDATE","payload":{"id":${t.id},"sessionId":${JSON.stringify(t.sessionId)},"currentTime":`,
    updateTail: `,"maxTime":${t.maxTime},"isPaused":${t.status !== "running"},"status":"${t.status}","createdAt":"${createdIso}","updatedAt":"${updatedIso}"}}`,
  };
}

export class TimerMap {
  readonly #entries = new Map<number, Entry>();

  /** Timers held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The state held for timer `id`, if any. */
  state(id: number): TimerState | undefined {
    return this.#entries.get(id)?.state;
  }

  /** Every entry, in insertion order; the tick mutates `expiring` on them. */
  entries(): IterableIterator<Entry> {
    return this.#entries.values();
  }

  /** The ids held. */
  ids(): IterableIterator<number> {
    return this.#entries.keys();
  }

  delete(id: number): void {
    this.#entries.delete(id);
  }

  /** Puts `t` in the map unless the map already holds a newer version (or `force`). */
  adopt(t: TimerState, force = false): void {
    const e = this.#entries.get(t.id);
    if (e) {
      if (!force && e.state.version > t.version) return;
      if (e.state.updatedAt !== t.updatedAt) e.updatedIso = new Date(t.updatedAt).toISOString();
      e.state = t;
      Object.assign(e, updateFragments(t, e.createdIso, e.updatedIso));
      return;
    }
    const createdIso = new Date(t.createdAt).toISOString();
    const updatedIso = t.updatedAt === t.createdAt ? createdIso : new Date(t.updatedAt).toISOString();
    this.#entries.set(t.id, {
      state: t,
      topics: [`timer:${t.id}`, `session:${t.sessionId}`, TIMERS_TOPIC],
      createdIso,
      updatedIso,
      expiring: false,
      ...updateFragments(t, createdIso, updatedIso),
    });
  }

  /** The view of `t` at `now`, from its entry's cached dates when the map holds exactly `t`. */
  view(t: TimerState, now: number): TimerView {
    const e = this.#entries.get(t.id);
    return e && e.state === t ? entryView(e, now) : machine.toView(t, now);
  }
}

function entryView(e: Entry, now: number): TimerView {
  const t = e.state;
  return {
    id: t.id,
    sessionId: t.sessionId,
    currentTime: machine.currentTime(t, now),
    maxTime: t.maxTime,
    isPaused: t.status !== "running",
    status: t.status,
    createdAt: e.createdIso,
    updatedAt: e.updatedIso,
  };
}
