/**
 * A virtual clock for tests and micro benchmarks: time moves only when the caller says so, and
 * timers fire in order as it moves. This is the only way tests fake anything (an injected
 * `Clock`); it lives in the core so that tests and `bench/` share it without depending on each
 * other.
 */
import type { Clock, TimerHandle } from "./clock.ts";

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

  /** The earliest pending timer's due time. */
  get nextDue(): number | undefined {
    return this.#timers.reduce<number | undefined>((min, t) => (min === undefined || t.at < min ? t.at : min), undefined);
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

  /** Advances to `now + ms`, firing every timer due on the way, on time. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let due = this.nextDue; due !== undefined && due <= end; due = this.nextDue) this.fireNext(0);
    this.#now = end;
  }
}
