/**
 * A clock whose time moves only when the benchmark says so, for driving the real `Ticker` and
 * `Hub` without waiting (micro/ticker.bench.ts). Timers fire in due order as it moves.
 */
import type { Clock, TimerHandle } from "../../src/core/clock.ts";

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

export class VirtualClock implements Clock {
  #now: number;
  #timers: Pending[] = [];
  #nextId = 1;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(t);
    return t.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward by `ms` without firing anything (a busy event loop). */
  stall(ms: number): void {
    this.#now += ms;
  }

  /**
   * Fires the earliest timer, `delay` ms after it was due (how late the event loop got to it).
   * Returns false when nothing is pending.
   */
  fireNext(delay = 0): boolean {
    if (this.#timers.length === 0) return false;
    this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
    const t = this.#timers.shift()!;
    this.#now = Math.max(this.#now, t.at + delay);
    t.fn();
    return true;
  }
}
