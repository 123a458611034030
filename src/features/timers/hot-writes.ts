/**
 * The service's hot-state writes. They never fail a change (the database has it), but a failed
 * one is redone: a save when the timer's event comes back on the `timers` tail, a remove (a stop
 * during a Redis outage) when its `TIMER_STOP` does. Until then the stale hash could bring a
 * stopped timer back (a GET would answer it and put it back in the map), so lookups skip the hot
 * state for it ({@link HotWrites.removing}).
 * @module
 */
import type { Logger } from "../../log.ts";
import type { HotState } from "./hot-state.ts";
import type { TimerState } from "./timer-state.ts";

export class HotWrites {
  /** Timers whose save failed, and stopped ones whose remove failed. */
  readonly #stale = new Set<number>();
  readonly #gone = new Set<number>();

  constructor(
    public hot: HotState,
    private readonly log: Logger,
  ) {}

  /** Writes `t`; a failure is logged and remembered, never thrown. */
  async save(t: TimerState): Promise<void> {
    await this.hot.save(t).catch((err: unknown) => {
      this.#stale.add(t.id);
      this.log.warn({ err: String(err), id: t.id }, "timers: hot state write failed; the database has the change");
    });
  }

  /** Rewrites `t` if its last save failed. */
  resave(t: TimerState): void {
    if (this.#stale.delete(t.id)) void this.save(t);
  }

  /**
   * Removes a stopped timer (idempotent); a failure is logged and remembered, never thrown. Its
   * hash is untrusted from the start: a change let in meanwhile must not find the timer there.
   */
  async remove(id: number): Promise<void> {
    this.#stale.delete(id);
    this.#gone.add(id);
    try {
      await this.hot.remove(id);
      this.#gone.delete(id);
    } catch (err) {
      this.log.warn({ err: String(err), id }, "timers: hot state remove failed; redone when the stop's event comes back");
    }
  }

  /** Whether `id` was stopped and its hash may still be there (not to be trusted). */
  removing(id: number): boolean {
    return this.#gone.has(id);
  }
}
