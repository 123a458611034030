/**
 * The cron seed: on every tick, `{"event":"cron_tick","message":<ISO time of the tick>}` on
 * topic `cron`. The message is the tick's wall-clock boundary, so consecutive messages are exactly
 * one period apart however late the process woke. Ephemeral: dropped if it misses its deadline.
 * @module
 */
import type { AppContext } from "../../app/context.ts";
import type { Feature } from "../../app/feature.ts";

export const CRON_TOPIC = "cron";

export function cronFeature(ctx: AppContext): Feature {
  let remove: (() => void) | undefined;
  return {
    name: "cron",
    start() {
      remove = ctx.ticker.onTick((tick) => {
        ctx.hub.emit([CRON_TOPIC], { event: "cron_tick", message: new Date(tick.at).toISOString() }, { deadline: tick.deadline, tickAt: tick.at });
      });
    },
    stop() {
      remove?.();
    },
  };
}
