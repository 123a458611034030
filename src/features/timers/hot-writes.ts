/**
 * The service's writes to the hot state, which never fail a change (the database has it
 * already) but are not forgotten when they fail either: a timer whose save failed is rewritten
 * when its event comes back on the `timers` tail ({@link HotWrites.resave}), and one whose remove
 * failed (stopped during a Redis outage) is removed when its `TIMER_STOP` comes back. Until then
 * its hash may still be there, and bring a stopped timer back to life (a GET would answer it and
 * put it back in the map): {@link HotWrites.removing} tells lookups to skip the hot state for it.
 * @module
 */
import type { Logger } from "../../log.ts";
import type { HotState } from "./hot-state.ts";
import type { TimerState } from "./timer-state.ts";

export class HotWrites {
  hot: HotState;
  readonly #log: Logger;
  /** Timers whose save failed: rewritten when their event comes back on the tail. */
  readonly #stale = new Set<number>();
  /** Timers stopped whose remove failed: their hash may outlive them until a remove succeeds. */
  readonly #gone = new Set<number>();

  constructor(hot: HotState, log: Logger) {
    this.hot = hot;
    this.#log = log;
  }

  /** Writes `t`; a failure is logged and remembered, never thrown. */
  async save(t: TimerState): Promise<void> {
    await this.hot.save(t).catch((err: unknown) => {
      this.#stale.add(t.id);
      this.#log.warn({ err: String(err), id: t.id }, "timers: hot state write failed; the database has the change");
    });
  }

  /** Rewrites `t` if its last save failed. */
  resave(t: TimerState): void {
    if (this.#stale.delete(t.id)) void this.save(t);
  }

  /** Removes a stopped timer (idempotent); a failure is logged and remembered, never thrown. */
  async remove(id: number): Promise<void> {
    this.#stale.delete(id);
    try {
      await this.hot.remove(id);
      this.#gone.delete(id);
    } catch (err) {
      this.#gone.add(id);
      this.#log.warn({ err: String(err), id }, "timers: hot state remove failed; redone when the stop's event comes back");
    }
  }

  /** Whether `id` was stopped and its hash may still be in the hot state (not to be trusted). */
  removing(id: number): boolean {
    return this.#gone.has(id);
  }
}
