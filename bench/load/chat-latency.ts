/**
 * Chat latency: from `POST /messages` to delivery on N SSE clients (`GET /events`) and on N
 * WebSocket clients (`/ws?topics=chat`), against a tickwire child process in embedded mode and
 * in Redis mode (the machine's Redis, a unique `STREAM_PREFIX`).
 *
 * Each message's content is `c<k>@<send time>`: the poster and the subscribers share this
 * process's monotonic clock, so a delivery's latency is its arrival time minus the stamp taken
 * just before the POST, with no cross-process clock error. It covers the HTTP request, the
 * append (an `XADD` in Redis mode), the tail (`XREAD` wake-up), the fan-out and loopback.
 * Subscribers are raw TCP readers that scan bytes for the marker: with 1000 of them in one
 * process, Bun's `WebSocket`/`fetch` clients would cost more per message than the server does.
 *
 *   bun bench/load/chat-latency.ts [--clients 1000] [--messages 100] [--rate 10] [--modes embedded,redis] [--transports sse,ws]
 * Writes bench/results/chat-latency.json and prints a table.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { percentile, printTable, writeResult } from "../support/report.ts";
import { launchTickwire, REDIS_URL, uniquePrefix } from "./launcher.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "1000" },
    messages: { type: "string", default: "100" },
    // 10 messages/s × 1000 clients = 10k deliveries/s: a latency figure, not a saturation test
    // (on a 2-core box the clients and the server share the CPUs).
    rate: { type: "string", default: "10" },
    modes: { type: "string", default: "embedded,redis" },
    transports: { type: "string", default: "sse,ws" },
  },
});
const clients = Number(values.clients);
const messages = Number(values.messages);
const rate = Number(values.rate);
/** Messages sent first and not counted (JIT warm-up, socket buffers). */
const warmup = Math.max(5, Math.round(messages * 0.1));
type Transport = "sse" | "ws";

const MARK = '"content":"c';

/** What the subscribers received: per-delivery latency and per-message counts. */
class Receipts {
  latencies: number[] = [];
  counts = new Int32Array(warmup + messages);
  received = 0;
  duplicates = 0;
  #lastSeen: Int32Array;

  constructor(subscribers: number) {
    this.#lastSeen = new Int32Array(subscribers).fill(-1);
  }

  /** Scans `s` for complete markers; returns where an incomplete tail starts. */
  scan(s: string, now: number, sub: number): number {
    let from = 0;
    for (;;) {
      const k = s.indexOf(MARK, from);
      if (k < 0) return Math.max(from, s.length - MARK.length);
      const start = k + MARK.length;
      const end = s.indexOf('"', start);
      if (end < 0) return k;
      const at = s.indexOf("@", start);
      const id = Number(s.slice(start, at));
      if (id <= this.#lastSeen[sub]!) this.duplicates++;
      else this.#lastSeen[sub] = id;
      if (id >= warmup && id < this.counts.length) {
        this.counts[id]!++;
        this.received++;
        this.latencies.push(now - Number(s.slice(at + 1, end)));
      }
      from = end;
    }
  }
}

/** Opens `count` subscribers over raw TCP, 200 at a time; resolves when all are registered. */
async function openSubscribers(url: string, transport: Transport, count: number, rx: Receipts): Promise<() => void> {
  const { hostname, port } = new URL(url);
  const sockets: { end(): void }[] = [];
  let next = 0;
  const openOne = async (i: number) => {
    let pending = "";
    let head = true;
    let ready!: () => void;
    const registered = new Promise<void>((r) => (ready = r));
    const socket = await Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        data(_s, chunk) {
          const now = performance.now();
          // Latin-1 keeps byte offsets; WS frame headers are skipped by the marker scan (message
          // frames are under 126 bytes of header and never contain the marker themselves).
          let s = pending + chunk.toString("latin1");
          if (head) {
            const end = s.indexOf("\r\n\r\n");
            if (end < 0) return void (pending = s);
            head = false;
            s = s.slice(end + 4);
            if (transport === "ws") ready();
          }
          if (transport === "sse" && s.includes(": connected")) ready();
          pending = s.slice(rx.scan(s, now, i));
        },
      },
    });
    socket.write(
      transport === "sse"
        ? `GET /events?topics=chat&client_id=bench-${i} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`
        : `GET /ws?topics=chat HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    sockets.push(socket);
    await registered;
  };
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < count) await openOne(next++);
    }),
  );
  return () => {
    for (const s of sockets) s.end();
  };
}

interface Run {
  mode: string;
  transport: Transport;
  clients: number;
  messages: number;
  expected: number;
  delivered: number;
  duplicates: number;
  postErrors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  postMs: { p50: number; p99: number };
}

async function measure(mode: string, url: string, transport: Transport): Promise<Run> {
  const rx = new Receipts(clients);
  const close = await openSubscribers(url, transport, clients, rx);
  const posts: number[] = [];
  let postErrors = 0;
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let k = 0; k < warmup + messages; k++) {
    const wait = t0 + (k * 1000) / rate - performance.now();
    if (wait > 0.5) await new Promise((r) => setTimeout(r, wait)); // pacing the sender, not waiting for a condition
    const sentAt = performance.now();
    inFlight.push(
      fetch(`${url}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: `{"content":"c${k}@${sentAt.toFixed(3)}","user":"bench"}`,
      }).then(
        async (res) => {
          await res.arrayBuffer();
          if (res.status !== 201) postErrors++;
          else if (k >= warmup) posts.push(performance.now() - sentAt);
        },
        () => void postErrors++,
      ),
    );
  }
  await Promise.all(inFlight);
  const expected = messages * clients;
  const drainUntil = performance.now() + 10_000;
  while (rx.received < expected && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
  close();
  const lat = rx.latencies.sort((a, b) => a - b);
  posts.sort((a, b) => a - b);
  return {
    mode,
    transport,
    clients,
    messages,
    expected,
    delivered: rx.received,
    duplicates: rx.duplicates,
    postErrors,
    latencyMs: { p50: percentile(lat, 0.5), p90: percentile(lat, 0.9), p99: percentile(lat, 0.99), max: lat.at(-1) ?? NaN },
    postMs: { p50: percentile(posts, 0.5), p99: percentile(posts, 0.99) },
  };
}

const runs: Run[] = [];
for (const mode of values.modes.split(",")) {
  const env: Record<string, string> = { LOG_LEVEL: "warn", SSE_PING_MS: "300000" };
  if (mode === "redis") Object.assign(env, { REDIS_URL, STREAM_PREFIX: uniquePrefix("bench-chat") });
  const server = await launchTickwire(env);
  try {
    for (const transport of values.transports.split(",") as Transport[]) {
      console.error(`${mode} / ${transport}: ${clients} clients, ${warmup}+${messages} messages at ${rate}/s...`);
      runs.push(await measure(mode, server.url, transport));
    }
  } finally {
    await server.stop();
  }
}

const result = {
  benchmark: "chat-latency",
  at: new Date().toISOString(),
  command: `bun bench/load/chat-latency.ts ${process.argv.slice(2).join(" ")}`.trim(),
  // Load average when done: other work on the machine shows up in the tail latencies.
  machine: { cpus: navigator.hardwareConcurrency, bun: Bun.version, loadavg: loadavg().map((l) => +l.toFixed(2)) },
  note: "latency = delivery time on a subscriber - time just before POST /messages; clients and server on one machine",
  clients,
  messages,
  rate,
  runs,
};
const path = await writeResult("chat-latency", result);
printTable(
  ["mode", "transport", "clients", "delivered", "p50 ms", "p90 ms", "p99 ms", "max ms", "POST p50 ms", "POST p99 ms"],
  runs.map((r) => [
    r.mode,
    r.transport,
    r.clients,
    `${r.delivered}/${r.expected}`,
    r.latencyMs.p50,
    r.latencyMs.p90,
    r.latencyMs.p99,
    r.latencyMs.max,
    r.postMs.p50,
    r.postMs.p99,
  ]),
);
console.log(`written to ${path}`);
