/**
 * Replay cost: what a WebSocket `subscribe` with `since` costs tickwire and Redis, inside the
 * in-memory window of the newest HISTORY_SIZE entries and outside it (a bounded `XRANGE`).
 *
 * One tickwire child in Redis mode (the machine's Redis, a unique `STREAM_PREFIX`, deleted at
 * the end), `HISTORY_SIZE=1000`, `chat` pre-filled with `--fill` messages through
 * `POST /messages` (1550 by default), then one at a time until the stream retains more than
 * the window (`MAXLEN ~` trims whole stream nodes, so it keeps up to a node's worth beyond
 * HISTORY_SIZE: those entries are retained but older than the window). Replay limits are raised
 * (`REPLAY_RATE` / `REPLAY_BURST` 10 000): this measures the cost of a replay, not the limiter
 * (replay-amplification.ts does that).
 *
 * A replay: a client sends `{"op":"subscribe","topic":"chat","since":S}`, counts the `chat`
 * frames until the stream's newest seq arrives (the replay's end), then unsubscribes (waiting
 * for its ack). Variants:
 * - `window-500`: S = 500 entries back (inside the window).
 * - `window-all` (the baseline): S = the window's oldest entry: HISTORY_SIZE - 1 entries from memory.
 * - `redis-retained`: S = the newest retained entry just outside the window: HISTORY_SIZE
 *   entries, one Redis read (`XRANGE`, `XINFO STREAM`, `GET` epoch), recovered.
 * - `redis-0-0`: S = `0-0`: every retained entry, a Redis read, and `recovered:false` (the stream
 *   was trimmed).
 * - `window-all ×C`, `redis-0-0 ×C`: C sockets replay at once (`--concurrency`): identical Redis
 *   reads in flight at once share one answer.
 * - `xrange`: the bench's own client sends the `XRANGE … COUNT` of `redis-0-0` alone: the floor
 *   for a Redis read of those entries (bytes Redis sends, time).
 *
 * Per variant: replays, entries per replay, entries/s (entries delivered / time until the last
 * frame, one at a time or C at once), replay p50 ms, Redis reads per replay (the delta of
 * `tickwire_replay_reads_total{source="redis"}`, and `source="memory"`), and Redis's own
 * `INFO stats` deltas per replay (`total_net_output_bytes`, `total_commands_processed`), net
 * of the INFO calls themselves and of the background measured idle beforehand. Rounds rotate
 * the variant order; ratios are against `window-all` in the same round (median, range).
 *
 *   bun bench/load/replay-cost.ts [--fill 1550] [--history 1000] [--size 200] [--replays 20] [--concurrency 16] [--batches 3] [--rounds 5] [--back 500]
 * Writes bench/results/replay-cost.json and prints a table.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { median, percentile, printTable, writeResult } from "../support/report.ts";
import { launchTickwire, REDIS_URL, uniquePrefix } from "./launcher.ts";
import {
  counterDelta,
  deleteKeys,
  fmt,
  inParallel,
  openWebSocket,
  RedisMeter,
  type RedisStats,
  redisClient,
  replayCounters,
  streamIds,
  streamInfo,
} from "./replay-tools.ts";

const { values } = parseArgs({
  options: {
    fill: { type: "string", default: "1550" },
    history: { type: "string", default: "1000" },
    /** Characters of content per message (a frame is ~150 bytes more). */
    size: { type: "string", default: "200" },
    replays: { type: "string", default: "20" },
    concurrency: { type: "string", default: "16" },
    batches: { type: "string", default: "3" },
    rounds: { type: "string", default: "5" },
    back: { type: "string", default: "500" },
  },
});
const fill = Number(values.fill);
const history = Number(values.history);
const size = Number(values.size);
const replays = Number(values.replays);
const concurrency = Number(values.concurrency);
const batches = Number(values.batches);
const rounds = Number(values.rounds);
const back = Number(values.back);
/** A replay that has not reached the newest seq by then failed. */
const REPLAY_TIMEOUT_MS = 15_000;

const CHAT_HEAD = '{"topic":"chat","seq":"';

/** One `/ws` socket replaying `chat` from an offset, again and again. */
class ReplayClient {
  #ws: WebSocket;
  #frames = 0;
  #notRecovered = 0;
  #target: string | undefined;
  #done: (() => void) | undefined;
  #acks = new Map<number, () => void>();
  #ref = 0;
  errors: string[] = [];

  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const text = String(ev.data);
      if (text.startsWith(CHAT_HEAD)) {
        this.#frames++;
        const seq = text.slice(CHAT_HEAD.length, text.indexOf('"', CHAT_HEAD.length));
        if (seq === this.#target) this.#done?.();
        return;
      }
      const msg = JSON.parse(text) as { op: string; ref?: number; recovered?: boolean; code?: string };
      if (msg.op === "ack" && msg.ref !== undefined) this.#acks.get(msg.ref)?.();
      else if (msg.op === "recovered" && msg.recovered === false) this.#notRecovered++;
      else if (msg.op === "error") this.errors.push(msg.code ?? text);
    };
  }

  static async open(url: string): Promise<ReplayClient> {
    return new ReplayClient(await openWebSocket(`${url.replace("http", "ws")}/ws?topics=`));
  }

  #op(frame: Record<string, unknown>): Promise<void> {
    const ref = ++this.#ref;
    const acked = new Promise<void>((resolve) => this.#acks.set(ref, resolve));
    this.#ws.send(JSON.stringify({ ...frame, ref }));
    return acked.finally(() => this.#acks.delete(ref));
  }

  /** Subscribes with `since`, resolves once `newest` has arrived; then unsubscribes. */
  async replay(since: string, newest: string): Promise<{ ms: number; entries: number; notRecovered: number }> {
    this.#frames = 0;
    this.#notRecovered = 0;
    this.#target = newest;
    const reached = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`replay from ${since}: ${this.#frames} frames, newest not reached in ${REPLAY_TIMEOUT_MS} ms`)),
        REPLAY_TIMEOUT_MS,
      );
      this.#done = () => (clearTimeout(timer), resolve());
    });
    const t0 = performance.now();
    void this.#op({ op: "subscribe", topic: "chat", since });
    await reached;
    const ms = performance.now() - t0;
    this.#done = undefined;
    const entries = this.#frames;
    await this.#op({ op: "unsubscribe", topic: "chat" });
    return { ms, entries, notRecovered: this.#notRecovered };
  }

  close(): void {
    this.#ws.close();
  }
}

interface VariantRound {
  round: number;
  replays: number;
  entries: number;
  /** Wall time of the variant's replays (one at a time: their sum; concurrent: per batch, summed). */
  ms: number;
  replayMs: number[];
  notRecovered: number;
  reads: { memory: number; redis: number };
  redis: { bytes: number; commands: number };
}

interface Variant {
  name: string;
  what: string;
  since: string;
  /** Sockets replaying at once. */
  parallel: number;
  expectedEntries: number;
  rounds: VariantRound[];
}

const prefix = uniquePrefix("bench-replay-cost");
const redis = await redisClient(REDIS_URL, `${prefix}-bench`);
const server = await launchTickwire({
  REDIS_URL,
  STREAM_PREFIX: prefix,
  HISTORY_SIZE: String(history),
  REPLAY_RATE: "10000",
  REPLAY_BURST: "10000",
  LOG_LEVEL: "warn",
  SSE_PING_MS: "300000",
});
const key = `${prefix}:chat`;
const clients: ReplayClient[] = [];
try {
  console.error(`filling chat with ${fill} messages of ${size} characters...`);
  const pad = "x".repeat(size);
  let postErrors = 0;
  await inParallel(fill, 16, async (i) => {
    const res = await fetch(`${server.url}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ content: `m${i} ${pad}`, user: "bench" }),
    });
    await res.arrayBuffer();
    if (res.status !== 201) postErrors++;
  });
  if (postErrors > 0) throw new Error(`${postErrors} of ${fill} POST /messages failed`);
  // `MAXLEN ~` trims whole stream nodes (100 entries or 4 KB): the stream keeps 0 to a node's
  // worth of entries beyond HISTORY_SIZE. For a retained entry outside the window, post one
  // message at a time until the stream holds more than the window (bounded: a few nodes).
  let extra = 0;
  for (; fill > history && extra < 300 && (await streamInfo(redis, key)).length <= history; extra++) {
    const res = await fetch(`${server.url}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ content: `e${extra} ${pad}`, user: "bench" }),
    });
    await res.arrayBuffer();
  }
  const info = await streamInfo(redis, key);
  const ids = await streamIds(redis, key);
  const newest = info.last;
  // The window holds the newest `history` entries (once the tail has delivered them, checked by
  // the first replay reaching `newest`).
  const windowOldest = ids[Math.max(0, ids.length - history)]!;
  const outside = ids.length > history ? ids[ids.length - history - 1] : undefined;
  console.error(
    `stream: ${info.length} retained of ${info.added} added (${extra} posted one at a time); window ${Math.min(history, ids.length)}; ${ids.length - history} retained outside it`,
  );

  const variants: Variant[] = [
    {
      name: `window-${back}`,
      what: `since ${back} entries back (in the window)`,
      since: ids[ids.length - 1 - back]!,
      parallel: 1,
      expectedEntries: back,
      rounds: [],
    },
    {
      name: "window-all",
      what: "since the window's oldest entry (baseline)",
      since: windowOldest,
      parallel: 1,
      expectedEntries: Math.min(history, ids.length) - 1,
      rounds: [],
    },
    ...(outside
      ? [
          {
            name: "redis-retained",
            what: "since the newest retained entry outside the window",
            since: outside,
            parallel: 1,
            expectedEntries: history,
            rounds: [],
          },
        ]
      : []),
    { name: "redis-0-0", what: "since 0-0 (older than everything retained)", since: "0-0", parallel: 1, expectedEntries: ids.length, rounds: [] },
    {
      name: `window-all x${concurrency}`,
      what: `${concurrency} sockets at once, since the window's oldest`,
      since: windowOldest,
      parallel: concurrency,
      expectedEntries: Math.min(history, ids.length) - 1,
      rounds: [],
    },
    {
      name: `redis-0-0 x${concurrency}`,
      what: `${concurrency} sockets at once, since 0-0`,
      since: "0-0",
      parallel: concurrency,
      expectedEntries: ids.length,
      rounds: [],
    },
    { name: "xrange", what: "the bench's client: XRANGE (0-0 + COUNT, alone", since: "0-0", parallel: 0, expectedEntries: ids.length, rounds: [] },
  ];

  for (let i = 0; i < concurrency; i++) clients.push(await ReplayClient.open(server.url));
  const meter = new RedisMeter(redis);
  // Warm-up: every variant once (JIT, the tail caught up to `newest`), not counted.
  for (const v of variants) if (v.parallel > 0) await clients[0]!.replay(v.since, newest);
  await meter.calibrate(3000);
  console.error(
    `redis meter: INFO pair ${fmt.int(meter.infoBytes)} B / ${meter.infoCommands} commands; background ${fmt.num(meter.idleBytesPerMs * 1000, 0)} B/s, ${fmt.num(meter.idleCommandsPerMs * 1000, 1)} commands/s`,
  );

  const xrangeCount = String(history + 128); // the cap tickwire's read uses (history-read.ts)
  for (let round = 0; round < rounds; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const v of order) {
      const r: VariantRound = {
        round,
        replays: 0,
        entries: 0,
        ms: 0,
        replayMs: [],
        notRecovered: 0,
        reads: { memory: 0, redis: 0 },
        redis: { bytes: 0, commands: 0 },
      };
      const c0 = await replayCounters(server.url);
      const s0: RedisStats = await meter.read();
      if (v.parallel === 0) {
        for (let i = 0; i < replays; i++) {
          const t0 = performance.now();
          const raw = await redis.sendCommand<unknown[]>(["XRANGE", key, `(${v.since}`, "+", "COUNT", xrangeCount]);
          const ms = performance.now() - t0;
          r.replays++;
          r.entries += raw.length;
          r.ms += ms;
          r.replayMs.push(ms);
        }
      } else if (v.parallel === 1) {
        for (let i = 0; i < replays; i++) {
          const one = await clients[0]!.replay(v.since, newest);
          r.replays++;
          r.entries += one.entries;
          r.ms += one.ms;
          r.replayMs.push(one.ms);
          r.notRecovered += one.notRecovered;
        }
      } else {
        for (let b = 0; b < batches; b++) {
          const t0 = performance.now();
          const all = await Promise.all(clients.slice(0, v.parallel).map((c) => c.replay(v.since, newest)));
          r.ms += performance.now() - t0;
          for (const one of all) {
            r.replays++;
            r.entries += one.entries;
            r.replayMs.push(one.ms);
            r.notRecovered += one.notRecovered;
          }
        }
      }
      const s1 = await meter.read();
      const c1 = await replayCounters(server.url);
      const d = counterDelta(c0, c1);
      r.reads = { memory: d.memory, redis: d.redis };
      const net = meter.net(s0, s1);
      r.redis = { bytes: net.bytes, commands: net.commands };
      v.rounds.push(r);
    }
    console.error(`round ${round + 1}/${rounds} done`);
  }
  const errors = clients.flatMap((c) => c.errors);
  const base = variants.find((v) => v.name === "window-all")!;
  const rate = (r: VariantRound) => r.entries / (r.ms / 1000);
  const summary = variants.map((v) => {
    const rs = v.rounds;
    const total = (f: (r: VariantRound) => number) => rs.reduce((n, r) => n + f(r), 0);
    const n = total((r) => r.replays);
    const all = rs.flatMap((r) => r.replayMs).sort((a, b) => a - b);
    const ratios = rs.map((r, i) => rate(r) / rate(base.rounds[i]!));
    return {
      name: v.name,
      what: v.what,
      since: v.since,
      parallel: v.parallel,
      replays: n,
      entriesPerReplay: total((r) => r.entries) / n,
      expectedEntries: v.expectedEntries,
      entriesPerSecond: median(rs.map(rate)),
      entriesPerSecondRange: [Math.min(...rs.map(rate)), Math.max(...rs.map(rate))],
      vsBaseline: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
      replayMs: { p50: percentile(all, 0.5), p99: percentile(all, 0.99) },
      notRecoveredPerReplay: total((r) => r.notRecovered) / n,
      redisReadsPerReplay: total((r) => r.reads.redis) / n,
      memoryReadsPerReplay: total((r) => r.reads.memory) / n,
      redisBytesPerReplay: total((r) => r.redis.bytes) / n,
      redisCommandsPerReplay: total((r) => r.redis.commands) / n,
    };
  });
  const baseRates = base.rounds.map(rate);
  const noise = (Math.max(...baseRates) - Math.min(...baseRates)) / median(baseRates);
  const result = {
    benchmark: "replay-cost",
    at: new Date().toISOString(),
    command: `bun bench/load/replay-cost.ts ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { cpus: navigator.hardwareConcurrency, bun: Bun.version, loadavg: loadavg().map((l) => +l.toFixed(2)) },
    options: { fill, history, size, replays, concurrency, batches, rounds, back },
    stream: { retained: info.length, added: info.added, window: Math.min(history, ids.length), outsideWindow: Math.max(0, ids.length - history) },
    redisMeter: {
      infoBytes: meter.infoBytes,
      infoCommands: meter.infoCommands,
      idleBytesPerS: meter.idleBytesPerMs * 1000,
      idleCommandsPerS: meter.idleCommandsPerMs * 1000,
    },
    baselineNoise: noise,
    errors,
    variants: summary,
    rounds: Object.fromEntries(variants.map((v) => [v.name, v.rounds])),
  };
  const path = await writeResult("replay-cost", result);
  printTable(
    [
      "variant",
      "replays",
      "entries/replay",
      "entries/s",
      "vs window-all (range)",
      "replay p50 ms",
      "redis reads/replay",
      "memory reads/replay",
      "redis bytes/replay",
      "redis cmds/replay",
    ],
    summary.map((s) => [
      s.name,
      s.replays,
      `${fmt.num(s.entriesPerReplay, 0)}${s.entriesPerReplay === s.expectedEntries ? "" : ` (expected ${s.expectedEntries})`}`,
      fmt.int(s.entriesPerSecond),
      `${fmt.ratio(s.vsBaseline.median)} (${fmt.num(s.vsBaseline.min)}–${fmt.num(s.vsBaseline.max)})`,
      fmt.num(s.replayMs.p50),
      fmt.num(s.redisReadsPerReplay, 3),
      fmt.num(s.memoryReadsPerReplay, 3),
      fmt.bytes(s.redisBytesPerReplay),
      fmt.num(s.redisCommandsPerReplay, 1),
    ]),
  );
  console.log(
    `\nstream: ${info.length} entries retained (${info.added} added), window ${result.stream.window}, ${result.stream.outsideWindow} retained outside it; ` +
      `baseline noise (window-all entries/s across rounds): ${(noise * 100).toFixed(0)}%; errors: ${errors.length}; ` +
      `redis-0-0 recovered:false per replay: ${fmt.num(summary.find((s) => s.name === "redis-0-0")!.notRecoveredPerReplay)}`,
  );
  console.log(`written to ${path}`);
} finally {
  for (const c of clients) c.close();
  await server.stop();
  const deleted = await deleteKeys(redis, prefix);
  console.error(`deleted ${deleted} redis keys under ${prefix}`);
  redis.destroy();
}
