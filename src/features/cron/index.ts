/**
 * The cron seed: on every tick, `{"event":"cron_tick","message":<ISO time of the tick>}` on
 * topic `cron`. The message is the tick's wall-clock boundary, so consecutive messages are exactly
 * one period apart however late the process woke. Ephemeral: dropped if it misses its deadline.
 * @module
 */
import type { AppContext } from "../../app/context.ts";
import type { Feature } from "../../app/feature.ts";
import type { TickMarks } from "../../core/tick-marks.ts";

export const CRON_TOPIC = "cron";

/** @param marks records where each durable log stood right before each tick goes out. */
export function cronFeature(ctx: AppContext, marks?: TickMarks): Feature {
  let remove: (() => void) | undefined;
  return {
    name: "cron",
    start() {
      remove = ctx.ticker.onTick((tick) => {
        // Nothing is delivered between the mark and the tick: a resume from its seq starts there.
        marks?.record(tick.at);
        ctx.hub.emit([CRON_TOPIC], { event: "cron_tick", message: new Date(tick.at).toISOString() }, { deadline: tick.deadline, tickAt: tick.at });
      });
    },
    stop() {
      remove?.();
    },
  };
}
