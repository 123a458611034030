/**
 * The cost of a timer change before and after the transactional outbox (issue #15), in one run,
 * on MySQL / MariaDB with the Redis topic log, as in production:
 *
 * - **after**: the real `TimerService` + `OutboxPublisher` over `timerStoreFor(openDatabase(…))`,
 *   wired as `src/features/timers/index.ts` does (the publisher kicked on every commit, the
 *   service's `applyEntry` tap, the `timer:` / `session:` derivation), with a `Hub` over a
 *   `RedisTopicLog` built as `src/main.ts` builds it. A change is one transaction (conditional
 *   UPDATE + outbox INSERT), then the publisher reads the outbox, appends with `{ eventId }` and
 *   deletes the row.
 * - **before**: the old path rebuilt in `timer-changes-before.ts` on the same database, pool,
 *   hub and log: one autocommit conditional UPDATE, then `hub.append("timers", { type, payload })`
 *   awaited before the call returns.
 *
 * Each variant gets `--change-timers` running timers (created once, not measured); a round then
 * alternates pause / resume on them, `--changes` times one at a time (each waited until its event
 * is back on the tail, so latencies are uncontended), then `--changes` times with
 * `--concurrency` in flight (each worker owns its own timers, so changes never race). Per change:
 * - commit: call → the database committed (before: the UPDATE answered; after: the call returned);
 * - return: call → the call returned (before: after the append; after: at commit);
 * - delivered: call → a `hub.tap("timers")` saw the event come back on the Redis tail (matched
 *   per timer id in order, and checked by type).
 * changes/s: changes / time until the last call returned; delivered/s: until the last event was
 * back. Variants alternate in rounds, order rotated, so machine noise hits both; the table shows
 * medians over rounds and the after/before ratio (median of per-round ratios, with their range).
 *
 *   bun bench/load/timer-changes.ts [--changes 2000] [--change-timers 200] [--concurrency 16] [--rounds 3] [--warmup 200]
 *     [--mysql-url mysql://root@127.0.0.1:3306/test] [--redis-url redis://127.0.0.1:6379]
 * Environment defaults: CHANGES, CHANGE_TIMERS, CONCURRENCY, ROUNDS, WARMUP, BENCH_MYSQL_URL,
 * BENCH_REDIS_URL. `--mysql-url` is only used to create (and finally drop) a throwaway database
 * next to the one it names; Redis keys live under a unique prefix, deleted at the end. Run by
 * `npm run bench:timers` after the per-tick section, or alone with `npm run bench:timer-changes`.
 * Writes bench/results/timer-changes.json.
 * @module
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { createConnection } from "mysql2/promise";
import { systemClock } from "../../src/core/clock.ts";
import { Hub } from "../../src/core/hub.ts";
import type { LogEntry } from "../../src/core/topic-log.ts";
import { OutboxPublisher } from "../../src/features/timers/outbox-publisher.ts";
import { TIMERS_TOPIC, TimerService } from "../../src/features/timers/timer-service.ts";
import { timerStoreFor } from "../../src/features/timers/timer-store-for.ts";
import { openDatabase } from "../../src/infra/db/database.ts";
import { Metrics } from "../../src/infra/metrics.ts";
import { connectRedis } from "../../src/infra/redis/client.ts";
import { RedisTopicLog } from "../../src/infra/redis/topic-log.ts";
import { silentLogger } from "../../src/log.ts";
import { median, percentile, printTable, writeResult } from "../support/report.ts";
import { REDIS_URL, uniquePrefix } from "./launcher.ts";
import { PreOutboxTimers } from "./timer-changes-before.ts";

export interface ChangeBenchOptions {
  changes: number;
  timers: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  mysqlUrl: string;
  redisUrl: string;
}

/** Flags first, then the environment, then the defaults; unknown flags are left to the caller. */
export function changeBenchOptions(args: string[] = Bun.argv.slice(2)): ChangeBenchOptions {
  const { values } = parseArgs({
    args,
    strict: false,
    options: {
      changes: { type: "string" },
      "change-timers": { type: "string" },
      concurrency: { type: "string" },
      rounds: { type: "string" },
      warmup: { type: "string" },
      "mysql-url": { type: "string" },
      "redis-url": { type: "string" },
    },
  });
  const int = (flag: string, env: string, fallback: number, min: number) => {
    const raw = values[flag] ?? process.env[env];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} / ${env}: expected an integer ≥ ${min}, got ${String(raw)}`);
    return n;
  };
  const str = (flag: string, env: string, fallback: string) => String(values[flag] ?? process.env[env] ?? fallback);
  return {
    changes: int("changes", "CHANGES", 2000, 1),
    timers: int("change-timers", "CHANGE_TIMERS", 200, 1),
    concurrency: int("concurrency", "CONCURRENCY", 16, 1),
    rounds: int("rounds", "ROUNDS", 3, 1),
    warmup: int("warmup", "WARMUP", 200, 0),
    mysqlUrl: str("mysql-url", "BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    redisUrl: str("redis-url", "BENCH_REDIS_URL", REDIS_URL),
  };
}

type VariantName = "before" | "after";
type Mode = "sequential" | "concurrent";
type Op = "pause" | "resume";

/** One change's instants (performance.now() ms). */
interface Sample {
  timerId: number;
  type: "TIMER_PAUSE" | "TIMER_RESUME";
  t0: number;
  committed: number;
  returned: number;
  delivered: number;
}

interface Variant {
  name: VariantName;
  ids: number[];
  /** Makes the change; sets `sample.committed`; resolves when the call returns. */
  change(id: number, op: Op, sample: Sample): Promise<void>;
  /** Resolves once nothing of this variant is still in flight (after: the outbox pass ran). */
  settle(): Promise<void>;
}

const DELIVERY_TIMEOUT_MS = 15_000;

/** Matches entries coming back on the tail with the changes waiting for them, per timer in order. */
class Deliveries {
  readonly #pending = new Map<number, { sample: Sample; resolve: () => void }[]>();
  creates = 0;
  unexpected = 0;
  mismatched = 0;

  expect(sample: Sample): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    let queue = this.#pending.get(sample.timerId);
    if (!queue) this.#pending.set(sample.timerId, (queue = []));
    queue.push({ sample, resolve });
    return promise;
  }

  onEntry = (entry: LogEntry): void => {
    const at = performance.now();
    const { type, payload } = entry.body as { type?: unknown; payload?: { id?: unknown } };
    if (type === "TIMER_CREATE") {
      this.creates++;
      return;
    }
    const id = payload?.id;
    const queue = typeof id === "number" ? this.#pending.get(id) : undefined;
    const next = queue?.shift();
    if (!next) {
      this.unexpected++;
      return;
    }
    if (queue!.length === 0) this.#pending.delete(id as number);
    if (type !== next.sample.type) this.mismatched++;
    next.sample.delivered = at;
    next.resolve();
  };
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(5);
  }
}

/** The bench's own view of each timer's status: the next change flips it. */
const running = new Map<number, boolean>();

function newSample(id: number): { sample: Sample; op: Op } {
  const op: Op = running.get(id) ? "pause" : "resume";
  return { op, sample: { timerId: id, type: op === "pause" ? "TIMER_PAUSE" : "TIMER_RESUME", t0: 0, committed: NaN, returned: NaN, delivered: NaN } };
}

async function oneChange(v: Variant, deliveries: Deliveries, id: number): Promise<{ sample: Sample; delivered: Promise<void> }> {
  const { sample, op } = newSample(id);
  const delivered = deliveries.expect(sample);
  sample.t0 = performance.now();
  await v.change(id, op, sample);
  sample.returned = performance.now();
  running.set(id, op === "resume");
  return { sample, delivered };
}

interface RunStats {
  committed: { p50: number; p99: number };
  returned: { p50: number; p99: number };
  delivered: { p50: number; p99: number };
  changesPerSec: number;
  deliveredPerSec: number;
}

function runStats(samples: Sample[], start: number): RunStats {
  const q = (f: (s: Sample) => number) => {
    const xs = Float64Array.from(samples, f).sort();
    return { p50: percentile(xs, 0.5), p99: percentile(xs, 0.99) };
  };
  const lastReturned = Math.max(...samples.map((s) => s.returned));
  const lastDelivered = Math.max(...samples.map((s) => s.delivered));
  return {
    committed: q((s) => s.committed - s.t0),
    returned: q((s) => s.returned - s.t0),
    delivered: q((s) => s.delivered - s.t0),
    changesPerSec: samples.length / ((lastReturned - start) / 1000),
    deliveredPerSec: samples.length / ((lastDelivered - start) / 1000),
  };
}

/** One change at a time, each waited until its event is back on the tail. */
async function sequential(v: Variant, deliveries: Deliveries, n: number): Promise<RunStats> {
  const samples: Sample[] = [];
  const start = performance.now();
  for (let k = 0; k < n; k++) {
    const { sample, delivered } = await oneChange(v, deliveries, v.ids[k % v.ids.length]!);
    await within(delivered, DELIVERY_TIMEOUT_MS, `${v.name}: event of timer ${sample.timerId}`);
    samples.push(sample);
  }
  const stats = runStats(samples, start);
  await v.settle();
  return stats;
}

/** `c` workers in a closed loop, each on its own timers, so two changes never race. */
async function concurrent(v: Variant, deliveries: Deliveries, n: number, c: number): Promise<RunStats> {
  const workers = Math.min(c, v.ids.length);
  const samples: Sample[] = [];
  const delivered: Promise<void>[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const own = v.ids.filter((_, i) => i % workers === w);
      const share = Math.floor(n / workers) + (w < n % workers ? 1 : 0);
      for (let j = 0; j < share; j++) {
        const r = await oneChange(v, deliveries, own[j % own.length]!);
        samples.push(r.sample);
        delivered.push(r.delivered);
      }
    }),
  );
  await within(Promise.all(delivered), DELIVERY_TIMEOUT_MS, `${v.name}: ${delivered.length} events`);
  const stats = runStats(samples, start);
  await v.settle();
  return stats;
}

const METRICS = {
  commitP50: (s: RunStats) => s.committed.p50,
  commitP99: (s: RunStats) => s.committed.p99,
  returnP50: (s: RunStats) => s.returned.p50,
  returnP99: (s: RunStats) => s.returned.p99,
  deliveredP50: (s: RunStats) => s.delivered.p50,
  deliveredP99: (s: RunStats) => s.delivered.p99,
  changesPerSec: (s: RunStats) => s.changesPerSec,
  deliveredPerSec: (s: RunStats) => s.deliveredPerSec,
} as const;
type MetricName = keyof typeof METRICS;

export interface ChangeBenchResult {
  options: Omit<ChangeBenchOptions, "mysqlUrl" | "redisUrl">;
  rounds: { round: number; order: VariantName[]; results: Record<VariantName, Record<Mode, RunStats>> }[];
  summary: Record<
    Mode,
    {
      before: Record<MetricName, number>;
      after: Record<MetricName, number>;
      /** after / before per round: median, min, max. */
      ratio: Record<MetricName, { median: number; min: number; max: number }>;
      /** The baseline's own spread across rounds, (max − min) / median, per metric. */
      beforeNoise: Record<MetricName, number>;
    }
  >;
  checks: { unexpectedEntries: number; mismatchedTypes: number; outboxDepthAtEnd: number };
  mysql: string;
  bun: string;
  cpus: number;
}

/** Runs the whole comparison; prints its table and writes `bench/results/timer-changes.json`. */
export async function runTimerChanges(opts: ChangeBenchOptions = changeBenchOptions()): Promise<ChangeBenchResult> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((error: unknown) => console.error("timer-changes cleanup:", error));
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  try {
    return await run(opts, cleanups);
  } finally {
    process.off("SIGINT", onSignal);
    await cleanup();
  }
}

async function run(opts: ChangeBenchOptions, cleanups: (() => Promise<unknown>)[]): Promise<ChangeBenchResult> {
  const clock = systemClock;
  const log = silentLogger;

  // A throwaway database next to the one named, dropped at the end.
  const name = `tickwire_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = await createConnection({ uri: opts.mysqlUrl });
  cleanups.push(() => admin.end());
  await admin.query(`CREATE DATABASE \`${name}\``);
  cleanups.push(() => admin.query(`DROP DATABASE IF EXISTS \`${name}\``));
  const [[{ version }]] = (await admin.query("SELECT VERSION() AS version")) as unknown as [[{ version: string }]];
  const url = new URL(opts.mysqlUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase(url.toString());
  cleanups.push(() => database.close());
  if (database.dialect !== "mysql") throw new Error("timer-changes needs a mysql:// URL");

  // Redis as main.ts builds it: a command connection, the topic log (its own tailer connection).
  const prefix = uniquePrefix("bench-timer-changes");
  const client = await connectRedis({ url: opts.redisUrl, log, name: prefix });
  cleanups.push(async () => {
    let cursor = "0";
    do {
      const [next, keys] = await client.sendCommand<[string, string[]]>(["SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"]);
      cursor = next;
      if (keys.length > 0) await client.sendCommand(["UNLINK", ...keys]);
    } while (cursor !== "0");
    client.destroy();
  });
  // main.ts's durable topics: the tailer follows all three streams, as in production.
  const redisLog = new RedisTopicLog({ client, prefix, topics: ["chat", "relay", "timers"], historySize: 1000, clock, log });
  await redisLog.start();
  cleanups.push(() => redisLog.stop());
  const metrics = new Metrics({ wsConnections: () => 0, sseConnections: () => 0, queueDepths: () => ({}), dependencies: () => ({}) });
  const hub = new Hub({ log: redisLog, clock, metrics, onError: (err, where) => console.error("hub:", where, err) });
  cleanups.push(async () => hub.stop());
  const deliveries = new Deliveries();
  const untap = hub.tap(TIMERS_TOPIC, deliveries.onEntry);
  cleanups.push(async () => untap());

  // After: the timers feature's wiring (src/features/timers/index.ts), without routes and ticker.
  const store = timerStoreFor(database, { queryTimeoutMs: 5000 });
  const instance = randomUUID();
  const outbox = new OutboxPublisher({ store, hub, clock, log, instance });
  const service = new TimerService({ store, instance, onCommitted: () => void outbox.kick(), hub, clock, log });
  hub.derive({
    parent: TIMERS_TOPIC,
    topicsOf: (entry) => {
      const payload = entry.body.payload as { id?: unknown; sessionId?: unknown } | undefined;
      return payload && typeof payload.id === "number" && typeof payload.sessionId === "string" ? [`timer:${payload.id}`, `session:${payload.sessionId}`] : [];
    },
    matches: (topic) => topic.startsWith("timer:") || topic.startsWith("session:"),
  });
  await service.load();
  const unapply = hub.tap(TIMERS_TOPIC, (entry) => service.applyEntry(entry));
  cleanups.push(async () => unapply());
  await outbox.start();
  cleanups.push(() => outbox.stop());

  const before = new PreOutboxTimers({ db: database.db, hub, clock, queryTimeoutMs: 5000 });
  const variants: Record<VariantName, Variant> = {
    before: {
      name: "before",
      ids: [],
      async change(id, op, sample) {
        const committed = () => void (sample.committed = performance.now());
        await (op === "pause" ? before.pause(id, committed) : before.resume(id, committed));
      },
      settle: async () => {},
    },
    after: {
      name: "after",
      ids: [],
      async change(id, op, sample) {
        await (op === "pause" ? service.pause(id) : service.resume(id));
        sample.committed = performance.now();
      },
      // The last delivery may be followed by the pass's outbox DELETE: let it finish.
      settle: () => outbox.kick(),
    },
  };
  for (let i = 0; i < opts.timers; i++) {
    const a = await service.create(`bench-after-${i % 20}`, 604_800);
    const b = await before.create(`bench-before-${i % 20}`, 604_800);
    variants.after.ids.push(a.id);
    variants.before.ids.push(b.id);
    running.set(a.id, true).set(b.id, true);
  }
  await until(() => deliveries.creates === 2 * opts.timers, DELIVERY_TIMEOUT_MS, "create events");
  await variants.after.settle();

  const order = (r: number): VariantName[] => (r % 2 === 0 ? ["before", "after"] : ["after", "before"]);
  const t0 = performance.now();
  if (opts.warmup > 0) {
    for (const v of order(0)) {
      await sequential(variants[v], deliveries, opts.warmup);
      await concurrent(variants[v], deliveries, opts.warmup, opts.concurrency);
    }
  }
  const rounds: ChangeBenchResult["rounds"] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const results = {} as Record<VariantName, Record<Mode, RunStats>>;
    for (const v of order(r)) {
      const seq = await sequential(variants[v], deliveries, opts.changes);
      const conc = await concurrent(variants[v], deliveries, opts.changes, opts.concurrency);
      results[v] = { sequential: seq, concurrent: conc };
      console.log(
        `round ${r + 1}/${opts.rounds} ${v.padEnd(6)}: sequential delivered p50 ${seq.delivered.p50.toFixed(2)} ms, ` +
          `concurrent ${Math.round(conc.changesPerSec)} changes/s (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
    rounds.push({ round: r, order: order(r), results });
  }

  const summarize = (mode: Mode) => {
    const of = (v: VariantName, m: MetricName) => rounds.map((r) => METRICS[m](r.results[v][mode]));
    const names = Object.keys(METRICS) as MetricName[];
    const pick = <T>(f: (m: MetricName) => T) => Object.fromEntries(names.map((m) => [m, f(m)])) as Record<MetricName, T>;
    return {
      before: pick((m) => median(of("before", m))),
      after: pick((m) => median(of("after", m))),
      ratio: pick((m) => {
        const a = of("after", m);
        const ratios = of("before", m).map((b, i) => a[i]! / b);
        return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
      }),
      beforeNoise: pick((m) => {
        const xs = of("before", m);
        return (Math.max(...xs) - Math.min(...xs)) / median(xs);
      }),
    };
  };
  const result: ChangeBenchResult = {
    options: { changes: opts.changes, timers: opts.timers, concurrency: opts.concurrency, rounds: opts.rounds, warmup: opts.warmup },
    rounds,
    summary: { sequential: summarize("sequential"), concurrent: summarize("concurrent") },
    checks: { unexpectedEntries: deliveries.unexpected, mismatchedTypes: deliveries.mismatched, outboxDepthAtEnd: (await store.outboxStats()).depth },
    mysql: version,
    bun: Bun.version,
    cpus: navigator.hardwareConcurrency,
  };
  printChangeTable(result);
  console.log(`wrote ${await writeResult("timer-changes", result)}`);
  return result;
}

function printChangeTable(result: ChangeBenchResult): void {
  const { options: o, summary, checks } = result;
  console.log(
    `\ntimer change (pause/resume alternately) on ${result.mysql} + Redis topic log: ${o.timers} timers per variant, ` +
      `${o.changes} changes per mode per round, ${o.rounds} rounds interleaved (order rotated), medians over rounds\n` +
      "commit: call → committed; return: call → call returned; delivered: call → event back on the `timers` tail\n" +
      "before: autocommit conditional UPDATE, then hub.append awaited (returns after the append)\n" +
      "after: TimerService (UPDATE + outbox INSERT in one transaction; returns at commit) + OutboxPublisher (append with eventId, DELETE)\n",
  );
  const cols: MetricName[] = ["commitP50", "commitP99", "returnP50", "returnP99", "deliveredP50", "deliveredP99", "changesPerSec", "deliveredPerSec"];
  const rows: unknown[][] = [];
  for (const mode of ["sequential", "concurrent"] as const) {
    const s = summary[mode];
    const label = mode === "sequential" ? "sequential (1 in flight)" : `concurrency ${o.concurrency}`;
    rows.push([label, "before", ...cols.map((m) => s.before[m])]);
    rows.push([label, "after", ...cols.map((m) => s.after[m])]);
    rows.push([label, "after/before", ...cols.map((m) => `${s.ratio[m].median.toFixed(2)}x`)]);
    rows.push([label, "  per round", ...cols.map((m) => `${s.ratio[m].min.toFixed(2)}–${s.ratio[m].max.toFixed(2)}`)]);
    rows.push([label, "  before noise", ...cols.map((m) => `${(s.beforeNoise[m] * 100).toFixed(0)}%`)]);
  }
  printTable(
    ["mode", "variant", "commit p50 ms", "commit p99 ms", "return p50 ms", "return p99 ms", "delivered p50 ms", "delivered p99 ms", "changes/s", "delivered/s"],
    rows,
  );
  console.log(
    `\n(before noise: the baseline's own spread across rounds, (max − min) / median.) checks: ${checks.unexpectedEntries} unmatched entries, ` +
      `${checks.mismatchedTypes} out-of-order types, outbox depth at the end ${checks.outboxDepthAtEnd} (all should be 0)`,
  );
}

if (import.meta.main) await runTimerChanges();
