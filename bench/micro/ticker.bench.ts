/**
 * Micro benchmarks of the tick path (mitata): the ticker's own wake-up work, and one cron tick's
 * publish (serialize once + native publish) with a bare `JSON.stringify` + publish as baseline.
 *
 *   bun bench/micro/ticker.bench.ts            # table
 *   bun bench/micro/ticker.bench.ts --json     # also writes bench/results/ticker.bench.json
 */
import { bench, group, run, summary } from "mitata";
import { Hub } from "../../src/core/hub.ts";
import { noopHubMetrics } from "../../src/core/hub-metrics.ts";
import { MemoryTopicLog } from "../../src/core/memory-topic-log.ts";
import { Ticker } from "../../src/core/ticker.ts";
import { VirtualClock } from "../../src/core/virtual-clock.ts";
import { silentLogger } from "../../src/log.ts";
import { WsTransport } from "../../src/transports/ws/ws-transport.ts";

const sink = { publish: (_t: string, d: string) => d.length, subscriberCount: () => 1 };

group("ticker wake-up", () => {
  const clock = new VirtualClock();
  let ticks = 0;
  const ticker = new Ticker({ periodMs: 1000, clock, onTick: () => ticks++ });
  ticker.start();
  bench("Ticker: one tick (compute boundary, observe lateness, re-arm)", () => {
    clock.fireNext(0.3);
  });
});

summary(() => {
  group("one cron tick published to one topic", () => {
    const clock = new VirtualClock();
    const hub = new Hub({ log: new MemoryTopicLog({ historySize: 10, clock }), clock });
    const ws = new WsTransport({ replayer: hub, backpressureLimit: 1 << 20, metrics: noopHubMetrics, log: silentLogger });
    ws.bind(sink);
    hub.addTransport(ws);
    let at = Math.floor(clock.now() / 1000) * 1000;
    bench("baseline: JSON.stringify + publish", () => {
      at += 1000;
      sink.publish("cron", JSON.stringify({ topic: "cron", seq: `${at}-0`, ts: at, event: "cron_tick", message: new Date(at).toISOString() }));
    }).baseline(true);
    bench("hub.emit (deadline check, serialize once, publish)", () => {
      at += 1000;
      clock.stall(1000);
      hub.emit(["cron"], { event: "cron_tick", message: new Date(at).toISOString() }, { tickAt: at, deadline: at + 1000 });
    });
  });
});

const json = process.argv.includes("--json");
const result = await run({ format: json ? "json" : "mitata" });
if (json) {
  await Bun.write(`${import.meta.dir}/../results/ticker.bench.json`, JSON.stringify(result, null, 2));
}
