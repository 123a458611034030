/**
 * The ticker with tickwire's settings; its listeners are added by the features.
 * @module
 */
import type { Config } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { Ticker } from "../core/ticker.ts";
import type { Metrics } from "../infra/metrics.ts";
import type { Logger } from "../log.ts";

export function buildTicker(config: Config, clock: Clock, metrics: Metrics, log: Logger): Ticker {
  return new Ticker({
    periodMs: config.tickMs,
    clock,
    // Wake 2 ms early and spin the last stretch: ticks start within ~0.1 ms of the boundary even
    // when a large publish is queued. Under load, wake as much earlier as timers have recently
    // been late (a fanout holding the event loop; a probe timer measures it every 25 ms). Waking
    // early and spinning are both capped at 1% of the period (10 ms at 1 s); idle, the spin is
    // about 2 ms per tick (timers fire ~1 ms late, so the wake-up lands ~2 ms before).
    wakeEarlyMs: 2,
    maxWakeEarlyMs: Math.min(10, config.tickMs / 100),
    spinMs: Math.min(10, config.tickMs / 100),
    onError: (err) => log.error({ err }, "tick listener failed"),
    onLateness: (ms) => metrics.tickLateness.observe(ms / 1000),
    onSkip: (count) => {
      metrics.ticksSkipped.inc(count);
      log.warn({ count }, "ticks skipped: the process woke more than one period late");
    },
  });
}
