/**
 * tickwire as the load benchmarks run it: `startTickwire` with the environment's config (exactly
 * what `bun src/main.ts` builds), plus two things a benchmark needs and the CLI does not print:
 * one JSON line `{"listening":<port>}` when it accepts connections, and, with `--tick-log`, one
 * line `{"tick":<lateness ms>,"at":<epoch ms>}` per tick, taken from the same observation the
 * `tickwire_tick_lateness_seconds` histogram gets (exact values instead of bucket bounds).
 *
 *   PORT=0 LOG_LEVEL=warn bun bench/load/fanout/tickwire-server.ts [--tick-log]
 * @module
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../../../src/config/index.ts";
import { createLogger } from "../../../src/log.ts";
import { startTickwire } from "../../../src/main.ts";

const { values } = parseArgs({ options: { "tick-log": { type: "boolean", default: false } } });
const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", APP_ENV: "test", DATABASE_URL: "sqlite::memory:", LOG_LEVEL: "warn", ...process.env });
const app = await startTickwire(config, { logger: createLogger(config.logLevel) });

if (values["tick-log"]) {
  const histogram = app.ctx.metrics.tickLateness;
  const observe = histogram.observe.bind(histogram);
  // The ticker looks `observe` up at each tick (src/main.ts), so wrapping it here sees every one.
  histogram.observe = ((value: number) => {
    console.log(JSON.stringify({ tick: value * 1000, at: Date.now() }));
    observe(value);
  }) as typeof histogram.observe;
}
console.log(JSON.stringify({ listening: app.port }));

const stop = () =>
  app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
