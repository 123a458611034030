/**
 * The per-tick path over every timer of this instance: the ephemeral `TIMER_UPDATE` of each
 * running timer, built from its entry's cached JSON fragments (`timer-map.ts`), and the start
 * of the expiry of those due. It runs for every timer on every tick, so it stays allocation-light.
 * @module
 */
import type { Hub } from "../../core/hub.ts";
import type { Tick } from "../../core/ticker.ts";
import type { TimerMap } from "./timer-map.ts";

/**
 * One ephemeral `TIMER_UPDATE` per running timer, and the expiry of those that reached `maxTime`
 * (a last update at `maxTime`, then `expire`, which is not started again while it runs).
 */
export function tickTimers(timers: TimerMap, hub: Hub, tick: Tick, expire: (id: number) => Promise<void>): void {
  const now = tick.at;
  const opts = { deadline: tick.deadline, tickAt: tick.at };
  for (const e of timers.entries()) {
    const t = e.state;
    if (t.status !== "running" || e.expiring) continue;
    // Inlined `isDue` / `currentTime`: this loop runs for every timer on every tick.
    const elapsed = t.accumulatedMs + (t.startedAt === null ? 0 : Math.max(0, now - t.startedAt));
    const due = elapsed >= t.maxTime * 1000;
    const seconds = due ? t.maxTime : Math.floor(elapsed / 1000);
    hub.emitJson(e.topics, () => e.updateHead + seconds + e.updateTail, opts);
    if (due) {
      e.expiring = true;
      expire(t.id).finally(() => {
        e.expiring = false;
      });
    }
  }
}
