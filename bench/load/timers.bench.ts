/**
 * The per-tick cost of the timer service at scale: 10 000 running timers in one process.
 *
 * Each tick derives every running timer's time and emits one ephemeral `TIMER_UPDATE` on its
 * three topics through the real hub (one `JSON.stringify`, three frames, native WS publish to a
 * real Bun server with a game master socket on `timers` and customers on some sessions, Prometheus
 * counters). Measured: wall and CPU time of `TimerService.tick()` over many ticks (target: under
 * 20 ms per tick), and heap / RSS per timer. Baseline in the same run: the hub alone emitting
 * 10 000 updates with a prebuilt payload, i.e. what the timer service adds on top of fan-out.
 * Also checked: the store sees no write during the ticks (a timer's time is derived, not stored).
 *
 * Then the cost of a timer change before and after the transactional outbox, on MySQL with the
 * Redis topic log (`timer-changes.ts`, which takes its own flags; it writes
 * bench/results/timer-changes.json).
 *
 *   bun bench/load/timers.bench.ts                 # both tables
 *   bun bench/load/timers.bench.ts --json          # also writes bench/results/timers.bench.json
 *   TIMERS=20000 TICKS=100 bun bench/load/timers.bench.ts
 *   bun bench/load/timers.bench.ts --changes 500 --rounds 5   # see timer-changes.ts
 *   bun bench/load/timers.bench.ts --ticks-only               # the per-tick section alone
 */
import { systemClock } from "../../src/core/clock.ts";
import { Hub } from "../../src/core/hub.ts";
import { MemoryTopicLog } from "../../src/core/memory-topic-log.ts";
import type { Tick } from "../../src/core/ticker.ts";
import { TimerService } from "../../src/features/timers/timer-service.ts";
import type { TimerStore } from "../../src/features/timers/timer-store.ts";
import { timerStoreFor } from "../../src/features/timers/timer-store-for.ts";
import { openDatabase } from "../../src/infra/db/database.ts";
import { Metrics } from "../../src/infra/metrics.ts";
import { silentLogger } from "../../src/log.ts";
import { WsTransport } from "../../src/transports/ws/ws-transport.ts";
import { percentile, printTable, writeResult } from "../support/report.ts";
import { changeBenchOptions, runTimerChanges } from "./timer-changes.ts";

// Parsed first, so that a bad flag fails before the per-tick section runs.
const changeOptions = process.argv.includes("--ticks-only") ? undefined : changeBenchOptions();

const TIMERS = Number(process.env.TIMERS ?? 10_000);
const TICKS = Number(process.env.TICKS ?? 60);
const SESSIONS = Math.max(1, Math.floor(TIMERS / 10));
const CUSTOMERS = 20;
const TICK_MS = 1000;

const clock = systemClock;
const metrics = new Metrics({ wsConnections: () => 0, sseConnections: () => 0, queueDepths: () => ({}), dependencies: () => ({}) });
const hub = new Hub({ log: new MemoryTopicLog({ historySize: 1000, clock }), clock, metrics });
const server = Bun.serve<{ topics: string[] }>({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req, srv) {
    const topics = new URL(req.url).searchParams.get("topics")!.split(",");
    return srv.upgrade(req, { data: { topics } }) ? undefined : new Response("upgrade", { status: 426 });
  },
  websocket: {
    backpressureLimit: 16 * 1024 * 1024,
    open(ws) {
      for (const t of ws.data.topics) ws.subscribe(t);
    },
    message() {},
  },
});
const wsTransport = new WsTransport({ replayer: hub, backpressureLimit: 16 * 1024 * 1024, metrics, log: silentLogger });
wsTransport.bind(server);
hub.addTransport(wsTransport);

let received = 0;
const sockets: WebSocket[] = [];
const connect = (topics: string) =>
  new Promise<void>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/?topics=${topics}`);
    ws.onmessage = () => void received++;
    ws.onopen = () => resolve();
    sockets.push(ws);
  });

const database = await openDatabase("sqlite::memory:");
const heap = () => {
  Bun.gc(true);
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage.rss() };
};
const before = heap();
/** Counts the store's writes (insert, update, delete): none may happen during a tick. */
let storeWrites = 0;
const countWrites = (store: TimerStore): TimerStore =>
  new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== "function") return value;
      const write = key === "insert" || key === "update" || key === "delete";
      return (...args: unknown[]) => {
        if (write) storeWrites++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
const service = new TimerService({ store: countWrites(timerStoreFor(database)), instance: "bench", hub, clock, log: silentLogger });
for (let i = 0; i < TIMERS; i++) await service.create(`s${i % SESSIONS}`, 604_800);
const after = heap();
const writesBeforeTicks = storeWrites;

/** Runs `fn` once per tick, letting sockets drain between ticks; returns wall and CPU ms. */
async function measure(fn: (tick: Tick) => void): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < TICKS + 5; i++) {
    const at = Math.floor(clock.now() / TICK_MS) * TICK_MS;
    const tick: Tick = { at, lateness: 0, deadline: at + 1e9 };
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn(tick);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    if (i >= 5) {
      wall.push(t1 - t0);
      cpu.push((c1.user + c1.system) / 1000);
    }
    await Bun.sleep(20);
  }
  return { wall, cpu };
}

const payload = {
  id: 1,
  sessionId: "s1",
  currentTime: 5,
  maxTime: 604_800,
  isPaused: false,
  status: "running",
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
};
const topics = Array.from({ length: TIMERS }, (_, i) => [`timer:${i}`, `session:s${i % SESSIONS}`, "timers"]);
const hubOnly = (tick: Tick) => {
  for (let i = 0; i < TIMERS; i++) hub.emit(topics[i]!, { type: "TIMER_UPDATE", payload }, { deadline: tick.deadline, tickAt: tick.at });
};

// Scenarios, each adding subscribers to the previous one.
const runs: { scenario: string; service: { wall: number[]; cpu: number[] }; baseline: { wall: number[]; cpu: number[] } }[] = [];
const scenario = async (name: string) => {
  const service_ = await measure((tick) => service.tick(tick));
  const baseline = await measure(hubOnly);
  runs.push({ scenario: name, service: service_, baseline });
};
await scenario("no subscribers");
for (let i = 0; i < CUSTOMERS; i++) await connect(`session:s${i}`);
await scenario(`${CUSTOMERS} customer sockets (${CUSTOMERS * 10} timers watched)`);
await connect("timers");
await scenario(`+ 1 game master socket on timers (all ${TIMERS})`);
const writesDuringTicks = storeWrites - writesBeforeTicks;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.at(-1)! };
};
const result = {
  timers: TIMERS,
  ticks: TICKS,
  framesReceived: received,
  scenarios: runs.map((r) => ({
    scenario: r.scenario,
    serviceTick: { wallMs: stats(r.service.wall), cpuMs: stats(r.service.cpu) },
    baselineHubOnly: { wallMs: stats(r.baseline.wall), cpuMs: stats(r.baseline.cpu) },
  })),
  storeWritesDuringTicks: writesDuringTicks,
  memoryPerTimer: { heapBytes: Math.round((after.heap - before.heap) / TIMERS), rssBytes: Math.round((after.rss - before.rss) / TIMERS) },
  targetMs: 20,
  bun: Bun.version,
  cpus: navigator.hardwareConcurrency,
};

console.log(`\n${TIMERS} running timers, ${TICKS} ticks per row; CPU = process user+system time during the synchronous tick\n`);
const row = (label: string, s: ReturnType<typeof stats>) => [label, s.mean, s.p50, s.p99, s.max];
printTable(
  ["per tick", "mean ms", "p50 ms", "p99 ms", "max ms"],
  result.scenarios.flatMap((s) => [
    row(`${s.scenario}: TimerService.tick CPU`, s.serviceTick.cpuMs),
    row(`${s.scenario}: TimerService.tick wall`, s.serviceTick.wallMs),
    row(`${s.scenario}: baseline hub.emit x N CPU`, s.baselineHubOnly.cpuMs),
  ]),
);
console.log(
  `\nmemory per timer: ${result.memoryPerTimer.heapBytes} B heap, ${result.memoryPerTimer.rssBytes} B RSS (incl. its SQLite row and unpublished TIMER_CREATE outbox row)`,
);
console.log(`database writes during the ${runs.length * (TICKS + 5)} ticks: ${writesDuringTicks}${writesDuringTicks === 0 ? "" : " (expected 0)"}`);
for (const s of result.scenarios)
  console.log(
    `target CPU per tick < ${result.targetMs} ms, ${s.scenario}: p50 ${s.serviceTick.cpuMs.p50.toFixed(1)} ms → ${s.serviceTick.cpuMs.p50 < result.targetMs ? "met" : "MISSED"}`,
  );
if (process.argv.includes("--json")) console.log(`wrote ${await writeResult("timers.bench", result)}`);

for (const ws of sockets) ws.close();
server.stop(true);
await database.close();

if (changeOptions) await runTimerChanges(changeOptions);
