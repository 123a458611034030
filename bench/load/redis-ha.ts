/**
 * Redis HA cost (issue #21): append latency and fanout p99 with `REDIS_MIN_REPLICAS` 0 and 1,
 * against a single Redis, a Sentinel set and a Redis Cluster, in one run. Every topology has a
 * replica behind each master and is started once (redis-ha/topologies.ts); each variant is its
 * own tickwire process (fanout/server.ts, with the topology's `REDIS_*` settings and a
 * `STREAM_PREFIX` of its own). Rounds interleave the variants, the order rotating each round,
 * and each variant runs, per round:
 * 1. appends: `POST /messages` at `--append-rate`/s for `--append-seconds` (redis-ha/append-load.ts),
 *    no subscribers: the HTTP round trip, p50 and p99;
 * 2. fanout: `--subscribers` raw WebSocket subscribers on `/ws?topics=chat`, one publisher sending
 *    `--rate` msg/s on the WS `publish` op (fanout/client.ts): publish → receipt latency, p99,
 *    server CPU per delivery.
 * A short warm-up round (`--warmup-round-seconds`, 0 for none) comes first and is not counted.
 * The table gives medians across rounds and median per-round ratios to `single` min=0 (the
 * baseline). A topology, server or round that fails leaves its variant's row with the error.
 *
 *   bun bench/load/redis-ha.ts [--rounds 4] [--warmup-round-seconds 1] [--subscribers 500] [--rate 100] [--seconds 4] [--warmup 1]
 *     [--append-rate 200] [--append-seconds 3] [--topologies single,sentinel,cluster] [--min-replicas 0,1]
 *     [--wait-timeout-ms 1000] [--name redis-ha]
 * Writes bench/results/<name>.json and prints a table.
 * @module
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { provenance } from "../support/machine-cpu.ts";
import { percentile, writeResult } from "../support/report.ts";
import { runLoad } from "./fanout/client.ts";
import { type LaunchedServer, launch } from "./fanout/server.ts";
import { uniquePrefix } from "./launcher.ts";
import { runAppends } from "./redis-ha/append-load.ts";
import { printSummary, type RoundResult, summarize, type VariantRun } from "./redis-ha/summary.ts";
import { cpuMsOf, startTopologies, TOPOLOGY_KINDS, type Topology, type TopologyKind, waitCallsOf } from "./redis-ha/topologies.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "4" },
    subscribers: { type: "string", default: "500" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "4" },
    warmup: { type: "string", default: "1" },
    "drain-ms": { type: "string", default: "2000" },
    "append-rate": { type: "string", default: "200" },
    "append-seconds": { type: "string", default: "3" },
    topologies: { type: "string", default: TOPOLOGY_KINDS.join(",") },
    "min-replicas": { type: "string", default: "0,1" },
    "wait-timeout-ms": { type: "string", default: "1000" },
    "warmup-round-seconds": { type: "string", default: "1" },
    name: { type: "string", default: "redis-ha" },
  },
});
const rounds = Number(values.rounds);
const subscribers = Number(values.subscribers);
const rate = Number(values.rate);
const warmupSeconds = Number(values.warmup);
const kinds = values.topologies.split(",").map((k) => k.trim()) as TopologyKind[];
for (const k of kinds) if (!TOPOLOGY_KINDS.includes(k)) throw new Error(`--topologies: unknown ${k}; use ${TOPOLOGY_KINDS.join(", ")}`);
const minReplicas = values["min-replicas"].split(",").map(Number);
/** How long one variant's round may take before it is given up (a hung connect, a stuck server). */
const ROUND_TIMEOUT_MS = 90_000;
const warmRound = Number(values["warmup-round-seconds"]);
const ms = (sorted: Float64Array, q: number) => percentile(sorted, q).toFixed(2);

const loadBefore = loadavg();
const started = await startTopologies(kinds);
const runs: VariantRun[] = [];
const servers = new Map<string, LaunchedServer>();
const topologyOf = new Map<string, Topology>();
try {
  for (const kind of kinds) {
    const s = started.get(kind)!;
    for (const min of minReplicas) {
      const run: VariantRun = { id: `${kind}/min${min}`, topology: s.ok ? s.topology.describe : kind, minReplicas: min, rounds: [] };
      runs.push(run);
      if (!s.ok) {
        run.failed = `topology did not start: ${s.error}`;
        continue;
      }
      const env = {
        ...s.topology.env,
        STREAM_PREFIX: uniquePrefix(`bench-ha-${kind}-min${min}`),
        REDIS_MIN_REPLICAS: String(min),
        REDIS_WAIT_TIMEOUT_MS: values["wait-timeout-ms"],
      };
      try {
        // The `embedded` kind adds no Redis of its own: the topology's settings in `env` are the only ones.
        servers.set(run.id, await launch("embedded", { env, name: run.id.replace("/", "-") }));
        topologyOf.set(run.id, s.topology);
      } catch (error) {
        run.failed = `tickwire did not start: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  }

  const measureOnce = async (run: VariantRun, server: LaunchedServer, appendSeconds: number, seconds: number): Promise<RoundResult> => {
    const topology = topologyOf.get(run.id)!;
    const redisPids = topology.dataPids();
    const [redisBefore, waitsBefore] = [await cpuMsOf(redisPids), await waitCallsOf(topology.dataPorts())];
    const append = await runAppends({ url: server.url, rate: Number(values["append-rate"]), seconds: appendSeconds, warmupSeconds });
    const fanout = await runLoad({
      url: server.url,
      transport: "ws",
      subscribers,
      rate,
      seconds,
      warmupSeconds,
      drainMs: Number(values["drain-ms"]),
      serverCpuMs: server.cpuMs,
    });
    const redisCpuMs = (await cpuMsOf(redisPids)) - redisBefore;
    const waitCalls = (await waitCallsOf(topology.dataPorts())) - waitsBefore;
    const published = Math.round(warmupSeconds * rate) + fanout.messages;
    const appends = published + append.requests + Math.round(warmupSeconds * Number(values["append-rate"]));
    return { append, fanout, serverCpuUsPerDelivery: ((fanout.serverCpuMs ?? NaN) * 1000) / (published * subscribers), redisCpuMs, waitCalls, appends };
  };

  // Round 0 is the warm-up round, short and not counted: the first load a fresh server and its
  // Redis connections see is slower for every variant alike (JIT, first scripts, buffers).
  for (let r = warmRound > 0 ? 0 : 1; r <= rounds; r++) {
    const label = r === 0 ? "warm-up" : `round ${r}/${rounds}`;
    const live = runs.filter((v) => !v.failed);
    const order = live.map((_, i) => live[(i + r) % live.length]!);
    for (const run of order) {
      const server = servers.get(run.id)!;
      await server.quiesce();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`round took over ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
      });
      try {
        const [appendSeconds, seconds] = r === 0 ? [warmRound, warmRound] : [Number(values["append-seconds"]), Number(values.seconds)];
        const res = await Promise.race([measureOnce(run, server, appendSeconds, seconds), timeout]);
        if (r === 0) run.warmUp = res;
        else run.rounds.push(res);
        const non201 = Object.values(res.append.failures).reduce((a, b) => a + b, 0);
        console.error(
          `${label} ${run.id.padEnd(13)} append p50 ${ms(res.append.latencies, 0.5)} p99 ${ms(res.append.latencies, 0.99)} ms ` +
            `(${non201} non-201)  ${res.waitCalls} WAITs  fanout p99 ${ms(res.fanout.latencies, 0.99)} ms lost ${res.fanout.lost} dup/reordered ${res.fanout.duplicatesOrReordered} (inexact msgs ${res.fanout.messages - res.fanout.completions.length}) publish errors ${res.fanout.publishErrors}`,
        );
        if (res.append.firstFailure) console.error(`  first failed append: ${res.append.firstFailure}`);
      } catch (error) {
        run.failed = `${label}: ${error instanceof Error ? error.message : String(error)}`;
        console.error(`${run.id}: ${run.failed}`);
      } finally {
        clearTimeout(timer);
      }
    }
  }
} finally {
  for (const s of servers.values()) await s.stop();
  for (const s of started.values()) if (s.ok) await s.topology.dispose();
}

const summary = summarize(runs, `single/min0`);
const result = {
  benchmark: "redis-ha",
  at: new Date().toISOString(),
  command: `bun bench/load/redis-ha.ts ${process.argv.slice(2).join(" ")}`.trim(),
  ...(await provenance()),
  machine: { cpus: navigator.hardwareConcurrency, bun: Bun.version, loadavgBefore: loadBefore, loadavgAfter: loadavg() },
  baseline: "single/min0",
  note: "every topology has one replica per master for both REDIS_MIN_REPLICAS settings; ratios are medians of per-round ratios to single/min0",
  rounds,
  warmupRoundSeconds: warmRound,
  append: { rate: Number(values["append-rate"]), seconds: Number(values["append-seconds"]), warmupSeconds },
  fanout: { subscribers, rate, seconds: Number(values.seconds), warmupSeconds, transport: "ws" },
  waitTimeoutMs: Number(values["wait-timeout-ms"]),
  variants: summary,
};
const path = await writeResult(values.name, result);
printSummary(summary);
console.log(
  `load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${result.machine.loadavgAfter.map((l) => l.toFixed(2)).join(" ")} (${navigator.hardwareConcurrency} cores); commit ${result.commit}`,
);
console.log(`written to ${path}`);
