/**
 * Loading the timers at start into the in-memory map: from the hot state (when shared) and the
 * database, reconciled by version.
 * @module
 */
import type { Logger } from "../../log.ts";
import type { HotState } from "./hot-state.ts";
import type { TimerMap } from "./timer-map.ts";
import type { TimerState } from "./timer-state.ts";
import type { TimerStore } from "./timer-store.ts";

export interface LoadSources {
  store: TimerStore;
  hot: HotState;
  timers: TimerMap;
  log: Logger;
  /** Writes a timer to the hot state; never throws (a failure is logged). */
  saveHot: (t: TimerState) => Promise<void>;
}

/**
 * Loads every timer: the hot state first (when shared), then the database, which wins by
 * version and drops timers it no longer has. The hot state is rewritten for the timers the
 * database corrected. Throws only when there is nothing to serve (no hot state and no database);
 * `source` says what was read: `database`, `redis+database` or `redis` (database unreachable).
 */
export async function loadTimers({ store, hot, timers, log, saveHot }: LoadSources): Promise<{ source: string; count: number }> {
  let source = "database";
  if (hot.shared) {
    try {
      const held = await hot.loadAll();
      if (held) {
        for (const t of held) timers.adopt(t);
        source = "redis+database";
      }
    } catch (error) {
      log.warn({ err: String(error) }, "timers: could not read hot state; loading from the database");
    }
  }
  try {
    const rows = await store.all();
    const ids = new Set<number>();
    const stale: TimerState[] = [];
    for (const row of rows) {
      ids.add(row.id);
      const held = timers.state(row.id);
      if (held && held.version === row.version) continue;
      timers.adopt(row, true);
      stale.push(row);
    }
    // Concurrent commands share one Redis connection, pipelined: one round trip, not N.
    if (hot.shared) await Promise.all(stale.map((row) => saveHot(row)));
    // In hot state but deleted from the database (stopped while a hot-state write failed).
    const gone = [...timers.ids()].filter((id) => !ids.has(id));
    for (const id of gone) timers.delete(id);
    await Promise.all(gone.map((id) => hot.remove(id).catch(() => {})));
  } catch (error) {
    if (source === "database") throw error;
    log.warn({ err: String(error) }, "timers: database unreachable at start; serving the hot state");
    source = "redis";
  }
  return { source, count: timers.size };
}
