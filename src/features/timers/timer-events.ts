/**
 * The durable `timers` topic as the timer service writes it: one append per committed event, and
 * the seqs of this instance's own appends, so that the tail does not make it read back a change
 * it already holds.
 * @module
 */
import type { Hub } from "../../core/hub.ts";
import type { Logger } from "../../log.ts";
import type { TimerEventType, TimerView } from "./timer-state.ts";

/** The durable root topic of timer events (the hub derives `timer:<id>` and `session:<sessionId>`). */
export const TIMERS_TOPIC = "timers";

/** How many of our own appended seqs to remember until the tail hands them back. */
const OWN_SEQS_KEPT = 4096;

export class TimerEvents {
  /** Seqs of entries this instance appended, not yet seen on the tail (bounded, oldest dropped). */
  readonly #ownSeqs = new Set<string>();
  readonly #hub: Hub;
  readonly #log: Logger;

  constructor(hub: Hub, log: Logger) {
    this.#hub = hub;
    this.#log = log;
  }

  /** Appends a durable event. The change is already committed, so a failure is logged, not thrown. */
  async append(type: TimerEventType, payload: TimerView): Promise<void> {
    try {
      const { seq } = await this.#hub.append(TIMERS_TOPIC, { type, payload });
      // Our own change is already in the map: `applyEntry` need not read it back from Redis.
      this.#ownSeqs.add(seq);
      if (this.#ownSeqs.size > OWN_SEQS_KEPT) this.#ownSeqs.delete(this.#ownSeqs.values().next().value!);
    } catch (error) {
      this.#log.error({ err: String(error), type, id: payload.id }, "timers: event committed to the database but not published");
    }
  }

  /** Whether this instance appended the entry `seq` (remembered once: the tail delivers it once). */
  takeOwn(seq: string): boolean {
    return this.#ownSeqs.delete(seq);
  }
}
