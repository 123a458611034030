/**
 * Tick lateness and drift of a tickwire server (a child process, default settings), idle and
 * under the default fanout load (1000 WS subscribers × 100 chat msg/s from bench/load/fanout/client.ts,
 * in this process), in one run, with two baselines from the same run: tickwire idle, and the
 * same Ticker class with its default options (wake 1 ms early; no spin, no adaptation) running in
 * the bare relay (bench/load/fanout/bare-relay.ts --tick-log) under the
 * same load, which shows what the load itself does to any timer in a process that fans out. The
 * loaded phases alternate (`--rounds`) so that both see the same background.
 *
 * Measured per tick:
 * - server lateness: how long after its wall-clock boundary the ticker ran, the exact value the
 *   `tickwire_tick_lateness_seconds` histogram observes (printed by bench/load/fanout/tickwire-server.ts);
 * - client-observed lateness: boundary → cron frame received here (adds fanout and loopback, and
 *   under load this process's own busy event loop, so it is shown, not judged);
 * - drift: every cron frame names its boundary; boundaries must be exact multiples of the period
 *   with no gap other than counted skips, and the lateness must not trend upward over the run
 *   (least-squares slope, ms per minute).
 *
 *   bun bench/load/tick-lateness.ts [--settle-seconds 2] [--idle-seconds 15] [--seconds 60] [--baseline-seconds 30]
 *     [--rounds 2] [--tick-ms 1000] [--subscribers 1000] [--rate 100] [--transport ws|sse]
 * `--seconds` is tickwire's total time under load, `--baseline-seconds` the bare relay's.
 * Writes bench/results/tick-lateness.json and tick-lateness.svg (CDF idle vs load), prints a table.
 * @module
 */
import { parseArgs } from "node:util";
import { percentile, printTable, writeResult } from "../support/report.ts";
import { cdfChart, writeSvg } from "../support/svg-chart.ts";
import { startBackgroundLoad, type Transport } from "./fanout/client.ts";
import { launch } from "./fanout/server.ts";

const { values } = parseArgs({
  options: {
    "idle-seconds": { type: "string", default: "15" },
    "settle-seconds": { type: "string", default: "2" },
    seconds: { type: "string", default: "60" },
    "baseline-seconds": { type: "string", default: "30" },
    rounds: { type: "string", default: "2" },
    "tick-ms": { type: "string", default: "1000" },
    subscribers: { type: "string", default: "1000" },
    rate: { type: "string", default: "100" },
    transport: { type: "string", default: "ws" },
  },
});
const tickMs = Number(values["tick-ms"]);

type Phase = "idle" | "load" | "bare";
let phase: Phase | undefined;
const server: { lateness: Record<Phase, { at: number; ms: number }[]> } = { lateness: { idle: [], load: [], bare: [] } };
const client: { lateness: Record<Phase, number[]>; boundaries: number[] } = { lateness: { idle: [], load: [], bare: [] }, boundaries: [] };
const barePublishMaxMs: number[] = [];

const app = await launch("embedded", {
  env: { TICK_MS: String(tickMs) },
  tickLog: true,
  onLine(line) {
    if ((phase !== "idle" && phase !== "load") || !line.startsWith('{"tick":')) return;
    const { tick, at } = JSON.parse(line) as { tick: number; at: number };
    server.lateness[phase].push({ at, ms: tick });
  },
});
const bare = await launch("bare", {
  env: { TICK_MS: String(tickMs) },
  tickLog: true,
  onLine(line) {
    if (phase !== "bare" || !line.startsWith('{"tick":')) return;
    const { tick, at, publishMaxMs } = JSON.parse(line) as { tick: number; at: number; publishMaxMs: number };
    server.lateness.bare.push({ at, ms: tick });
    barePublishMaxMs.push(publishMaxMs);
  },
});

const cron = new WebSocket(`${app.url.replace("http", "ws")}/ws`);
cron.onmessage = (ev) => {
  const now = performance.timeOrigin + performance.now();
  const frame = JSON.parse(String(ev.data));
  if (frame.event !== "cron_tick") return;
  const at = Date.parse(frame.message);
  client.boundaries.push(at);
  if (phase === "idle" || phase === "load") client.lateness[phase].push(now - at);
};
await new Promise((r) => (cron.onopen = r));

async function measure(p: Phase, seconds: number): Promise<void> {
  console.error(`${p}: measuring ${seconds} s of ticks every ${tickMs} ms...`);
  phase = p;
  await Bun.sleep(seconds * 1000); // the measurement window itself
  phase = undefined;
}

// Both servers and this process have just started (JIT, first GCs): let them settle first, as
// the loaded phases below do.
await Bun.sleep(Number(values["settle-seconds"]) * 1000);
await measure("idle", Number(values["idle-seconds"]));
const rounds = Number(values.rounds);
const loadStats = { sent: 0, deliveries: 0, publishErrors: 0 };
for (let r = 0; r < rounds; r++) {
  for (const [p, target, seconds] of [
    ["load", app, Number(values.seconds) / rounds],
    ["bare", bare, Number(values["baseline-seconds"]) / rounds],
  ] as const) {
    const load = await startBackgroundLoad({
      url: target.url,
      transport: p === "bare" ? "ws" : (values.transport as Transport),
      subscribers: Number(values.subscribers),
      rate: Number(values.rate),
    });
    await Bun.sleep(1000); // let the load reach its steady state before counting
    await measure(p, seconds);
    const st = await load.stop();
    if (p === "load") (loadStats.sent += st.sent), (loadStats.deliveries += st.deliveries), (loadStats.publishErrors += st.publishErrors);
  }
}
await bare.stop();

const metrics = await (await fetch(`${app.url}/metrics`)).text();
cron.close();
await app.stop();

const skipped = Number(/tickwire_ticks_skipped_total (\d+)/.exec(metrics)?.[1] ?? 0);
const b = client.boundaries;
const misaligned = b.filter((at) => at % tickMs !== 0).length;
let gaps = 0;
for (let i = 1; i < b.length; i++) gaps += Math.round((b[i]! - b[i - 1]!) / tickMs) - 1;
/** Least-squares slope of lateness over time, ms of lateness per minute of running. */
function trend(points: { at: number; ms: number }[]): number {
  if (points.length < 3) return NaN;
  const xs = points.map((p) => (p.at - points[0]!.at) / 60_000);
  const mx = xs.reduce((a, c) => a + c, 0) / xs.length;
  const my = points.reduce((a, c) => a + c.ms, 0) / points.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => ((num += (x - mx) * (points[i]!.ms - my)), (den += (x - mx) ** 2)));
  return num / den;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, c) => a - c);
  return { ticks: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.at(-1) ?? NaN, sorted: s };
};
const sIdle = stats(server.lateness.idle.map((x) => x.ms));
const sLoad = stats(server.lateness.load.map((x) => x.ms));
const sBare = stats(server.lateness.bare.map((x) => x.ms));
const pubMax = stats(barePublishMaxMs);
const cIdle = stats(client.lateness.idle);
const cLoad = stats(client.lateness.load);
const strip = ({ sorted, ...rest }: ReturnType<typeof stats>) => rest;

const result = {
  benchmark: "tick-lateness",
  at: new Date().toISOString(),
  tickMs,
  idleSeconds: Number(values["idle-seconds"]),
  loadSeconds: Number(values.seconds),
  load: { subscribers: Number(values.subscribers), rate: Number(values.rate), transport: values.transport, ...loadStats },
  serverLatenessMs: { idle: strip(sIdle), load: strip(sLoad), bareRelaySameTickerUnderLoad: strip(sBare) },
  /** Longest single `server.publish` (1000 sockets) per second in the bare relay under load. */
  barePublishMaxMsPerSecond: strip(pubMax),
  clientObservedMs: { idle: strip(cIdle), load: strip(cLoad) },
  /** Every tick's server lateness with its boundary (epoch ms), to see when outliers happen. */
  serverTicks: server.lateness,
  p99RatioLoadVsIdle: sLoad.p99 / sIdle.p99,
  p99RatioLoadVsBareUnderLoad: sLoad.p99 / sBare.p99,
  drift: {
    skippedTicks: skipped,
    boundariesMisaligned: misaligned,
    boundaryGapsBeyondSkips: gaps - skipped,
    latenessTrendMsPerMinute: { idle: trend(server.lateness.idle), load: trend(server.lateness.load) },
  },
  targets: {
    idleP99: { maxMs: 1, met: sIdle.p99 <= 1 },
    loadP99: { maxMs: 3, met: sLoad.p99 <= 3 },
    noDrift: { met: misaligned === 0 && gaps - skipped === 0 },
  },
};
await writeResult("tick-lateness", result);
await writeSvg(
  "tick-lateness",
  cdfChart(
    `Tick lateness, ${tickMs} ms ticks: idle vs ${values.subscribers} subscribers × ${values.rate} msg/s`,
    "lateness after the wall-clock boundary, ms",
    [
      { name: `server, idle (p99 ${sIdle.p99.toFixed(2)})`, sorted: sIdle.sorted },
      { name: `server, load (p99 ${sLoad.p99.toFixed(2)})`, sorted: sLoad.sorted },
      { name: `bare relay, load (p99 ${sBare.p99.toFixed(2)})`, sorted: sBare.sorted },
      { name: `client-observed, idle`, sorted: cIdle.sorted },
      { name: `client-observed, load`, sorted: cLoad.sorted },
    ],
  ),
);
printTable(
  ["measure", "ticks", "p50 ms", "p99 ms", "max ms", "target"],
  [
    ["server lateness, idle", sIdle.ticks, sIdle.p50, sIdle.p99, sIdle.max, `p99 ≤ 1 ms: ${result.targets.idleP99.met ? "met" : "MISSED"}`],
    ["server lateness, under load", sLoad.ticks, sLoad.p50, sLoad.p99, sLoad.max, `p99 ≤ 3 ms: ${result.targets.loadP99.met ? "met" : "MISSED"}`],
    [
      "baseline: Ticker with default options (1 ms early, no spin, no adaptation) in the bare relay, same load",
      sBare.ticks,
      sBare.p50,
      sBare.p99,
      sBare.max,
      "",
    ],
    ["bare relay: longest publish call per second", pubMax.ticks, pubMax.p50, pubMax.p99, pubMax.max, ""],
    ["client-observed, idle", cIdle.ticks, cIdle.p50, cIdle.p99, cIdle.max, ""],
    ["client-observed, under load", cLoad.ticks, cLoad.p50, cLoad.p99, cLoad.max, ""],
  ],
);
console.log(
  `load p99 / idle p99 = ${result.p99RatioLoadVsIdle.toFixed(2)}x; load p99 / bare relay under load p99 = ${result.p99RatioLoadVsBareUnderLoad.toFixed(2)}x; skipped ${skipped}, misaligned boundaries ${misaligned}, gaps beyond skips ${gaps - skipped}, ` +
    `lateness trend ${result.drift.latenessTrendMsPerMinute.idle.toFixed(3)} (idle) / ${result.drift.latenessTrendMsPerMinute.load.toFixed(3)} (load) ms/min; ` +
    `load delivered ${loadStats.deliveries} of ${loadStats.sent * Number(values.subscribers)}`,
);
