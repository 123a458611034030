/**
 * What a {@link TimerService} is made of: its store, its instance id, the hub, clock and logger,
 * and optionally hot state, the timer limits and the map it keeps.
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import type { Hub } from "../../core/hub.ts";
import type { Logger } from "../../log.ts";
import type { HotState } from "./hot-state.ts";
import type { TimerLimits } from "./timer-limits.ts";
import type { TimerMap } from "./timer-map.ts";
import type { TimerStore } from "./timer-store.ts";

export interface TimerServiceOptions {
  store: TimerStore;
  /** This instance's id in outbox rows (the outbox publisher's). */
  instance: string;
  /** Called after every commit: the outbox has new rows to publish. */
  onCommitted?: () => void;
  /** Defaults to none (the map is the only copy); see `TimerService.useHotState`. */
  hot?: HotState;
  /** Checked by every create, in its transaction; none: creates are not limited (benchmarks). */
  limits?: TimerLimits;
  /** The in-memory map to keep (shared with the sockets' snapshots); default: a new one. */
  timers?: TimerMap;
  /**
   * How long a change or expiry waits for its turn behind the others of its timer (ms) before it
   * is refused with 503 and skipped (`keyed-serial.ts`); default 5000, `DB_QUERY_TIMEOUT_MS`.
   */
  turnWaitMs?: number;
  hub: Hub;
  clock: Clock;
  log: Logger;
}
