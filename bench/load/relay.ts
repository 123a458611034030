/**
 * Relay benchmark: manager → `relay` log → broadcasters, against a tickwire server in its own
 * process (embedded log, and Redis Streams), clients in this process.
 *
 * Per mode:
 * - throughput: one manager sends `--messages` messages of `--size` bytes, pipelining up to
 *   `--window` unanswered frames (under the 1024 in-flight ingest limit), and we count acknowledged
 *   messages per second (first send → last ack); every broadcaster must receive them all;
 * - latency under load: manager send → broadcaster receipt for each message of that run;
 * - idle latency: one message at a time (`--samples`), each sent once the previous one arrived.
 *
 *   bun bench/load/relay.ts [--modes embedded,redis] [--messages 50000] [--window 256] [--size 100]
 *     [--broadcasters 4] [--samples 2000]
 * Writes bench/results/relay.json and prints a table.
 * @module
 */
import { parseArgs } from "node:util";
import { percentile, printTable, writeResult } from "../support/report.ts";
import { launch, type ServerKind } from "./fanout/server.ts";

const { values } = parseArgs({
  options: {
    modes: { type: "string", default: "embedded,redis" },
    messages: { type: "string", default: "50000" },
    window: { type: "string", default: "256" },
    size: { type: "string", default: "100" },
    broadcasters: { type: "string", default: "4" },
    samples: { type: "string", default: "2000" },
  },
});
const modes = values.modes.split(",").map((m) => m.trim()) as ServerKind[];
for (const m of modes) if (m !== "embedded" && m !== "redis") throw new Error(`--modes: unknown mode ${m}; use embedded, redis`);
const messages = Number(values.messages);
const windowSize = Number(values.window);
const size = Number(values.size);
const broadcasterCount = Math.max(1, Number(values.broadcasters));
const samples = Number(values.samples);

/** A message `<tag>:<index>:` padded to `size` bytes; the broadcaster reads the index back. */
const message = (tag: string, i: number) => {
  const head = `${tag}:${i}:`;
  return head + "x".repeat(Math.max(0, size - head.length));
};
const indexOf = (text: string) => Number(text.slice(text.indexOf(":") + 1, text.indexOf(":", text.indexOf(":") + 1)));

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}

const summary = (ms: number[]) => {
  const sorted = Float64Array.from(ms).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN, samples: sorted.length };
};

interface ThroughputRun {
  ackedPerSecond: number;
  seconds: number;
  errors: number;
  latencyMs: ReturnType<typeof summary>;
}

/** One manager pipelining `count` messages; resolves when every broadcaster has all of them. */
async function throughput(base: string, tag: string, count: number): Promise<ThroughputRun> {
  const manager = await open(`${base}/ws/manager`);
  const broadcasters = await Promise.all(Array.from({ length: broadcasterCount }, () => open(`${base}/ws/broadcast`)));
  const sentAt = new Float64Array(count);
  const latency: number[] = [];
  const received = new Array<number>(broadcasterCount).fill(0);
  let sent = 0;
  let replies = 0;
  let errors = 0;
  let start = 0;
  let lastAck = 0;
  return new Promise<ThroughputRun>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`${tag}: not finished after 120 s (replies ${replies}, received ${received})`)), 120_000);
    const finish = () => {
      if (replies < count || received.some((n) => n < count - errors)) return;
      clearTimeout(timeout);
      manager.close();
      for (const b of broadcasters) b.close();
      const seconds = (lastAck - start) / 1000;
      resolve({ ackedPerSecond: (count - errors) / seconds, seconds, errors, latencyMs: summary(latency) });
    };
    const pump = () => {
      while (sent < count && sent - replies < windowSize) {
        sentAt[sent] = performance.now();
        manager.send(message(tag, sent++));
      }
    };
    manager.onmessage = (e) => {
      replies++;
      if (JSON.parse(String(e.data)).op !== "ack") errors++;
      else lastAck = performance.now();
      pump();
      finish();
    };
    broadcasters.forEach((b, k) => {
      b.onmessage = (e) => {
        const text = String(e.data);
        if (!text.startsWith(`${tag}:`)) return;
        received[k]!++;
        if (k === 0) latency.push(performance.now() - sentAt[indexOf(text)]!);
        finish();
      };
    });
    start = performance.now();
    pump();
  });
}

/** One message in flight at a time: the latency of an otherwise idle relay. */
async function idleLatency(base: string, tag: string, count: number) {
  const manager = await open(`${base}/ws/manager`);
  const broadcaster = await open(`${base}/ws/broadcast`);
  const latency: number[] = [];
  let i = 0;
  let sentAt = 0;
  await new Promise<void>((resolve) => {
    const sendNext = () => {
      if (i === count) return resolve();
      sentAt = performance.now();
      manager.send(message(tag, i++));
    };
    broadcaster.onmessage = (e) => {
      if (!String(e.data).startsWith(`${tag}:`)) return;
      latency.push(performance.now() - sentAt);
      sendNext();
    };
    sendNext();
  });
  manager.close();
  broadcaster.close();
  return summary(latency);
}

const results: Record<string, unknown> = {};
for (const mode of modes) {
  const server = await launch(mode);
  const base = server.url.replace(/^http/, "ws");
  try {
    console.error(
      `${mode}: warm-up, then ${messages} messages (window ${windowSize}, ${size} B, ${broadcasterCount} broadcasters), then ${samples} idle samples`,
    );
    await throughput(base, "warm", Math.min(5000, messages));
    const load = await throughput(base, "load", messages);
    const idle = await idleLatency(base, "idle", samples);
    results[mode] = {
      throughput: { messages, ackedPerSecond: load.ackedPerSecond, seconds: load.seconds, errors: load.errors },
      latencyUnderLoadMs: load.latencyMs,
      latencyIdleMs: idle,
      serverRssBytes: await server.rss(),
    };
  } finally {
    await server.stop();
  }
}

const result = {
  benchmark: "relay",
  at: new Date().toISOString(),
  bun: Bun.version,
  settings: { messages, window: windowSize, size, broadcasters: broadcasterCount, samples },
  modes: results,
};
const path = await writeResult("relay", result);
const r = results as Record<string, any>;
printTable(
  ["mode", "acked msg/s", "errors", "load p50 ms", "load p99 ms", "idle p50 ms", "idle p99 ms"],
  modes.map((m) => [
    m,
    Math.round(r[m].throughput.ackedPerSecond),
    r[m].throughput.errors,
    r[m].latencyUnderLoadMs.p50,
    r[m].latencyUnderLoadMs.p99,
    r[m].latencyIdleMs.p50,
    r[m].latencyIdleMs.p99,
  ]),
);
console.log(`written to ${path}`);
