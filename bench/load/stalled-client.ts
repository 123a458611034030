/**
 * A stalled client must not delay the others. Runs a tickwire server (child process, embedded)
 * with N normal WebSocket subscribers on `chat` and one publisher at a fixed rate, in alternating
 * rounds without and with stalled clients (a raw TCP WebSocket and a raw SSE stream that complete
 * their handshake and never read again). Reports the normal clients' latency p50/p99 per phase,
 * the ratio with/without, loss, what happened to the stalled clients, and server RSS.
 *
 *   bun bench/load/stalled-client.ts [--clients 100] [--rate 1000] [--seconds 4] [--rounds 3] [--size 200]
 * Writes bench/results/stalled-client.json and prints a table.
 */
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { percentile, printTable, writeResult } from "../support/report.ts";
import { launchTickwire } from "./launcher.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "100" },
    rate: { type: "string", default: "1000" },
    // 12 s × 1000 msg/s × 1 KB = 12 MB a phase: past loopback buffers and the 1 MiB limit, so
    // the stalled clients meet the policy (closed 4008 / `event: overflow`) within a phase.
    seconds: { type: "string", default: "12" },
    rounds: { type: "string", default: "2" },
    // 1 KB messages: 4 MB a phase, enough to back a stalled socket up past the 1 MiB limit.
    size: { type: "string", default: "1000" },
    /** Which stalled clients to add: ws, sse or both. */
    stall: { type: "string", default: "both" },
  },
});
const clients = Number(values.clients);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const size = Number(values.size);

const server = await launchTickwire({ LOG_LEVEL: "info" });
const wsBase = server.url.replace("http", "ws");
const rss = async () => Number(/tickwire_process_resident_memory_bytes (\d+)/.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]);

// Normal subscribers: latency from the stamp in the message to arrival.
let phaseLatencies: number[] = [];
let received = 0;
const sockets: WebSocket[] = [];
for (let i = 0; i < clients; i++) {
  const ws = new WebSocket(`${wsBase}/ws?topics=chat`);
  ws.onmessage = (ev) => {
    const now = performance.timeOrigin + performance.now();
    // String search instead of JSON.parse: this one process receives clients × rate frames/s.
    const text = String(ev.data);
    const at = text.indexOf('"content":"');
    if (at === -1) return;
    received++;
    phaseLatencies.push(now - Number(text.slice(at + 11, text.indexOf("|", at))));
  };
  await new Promise((r) => (ws.onopen = r));
  sockets.push(ws);
}
const publisher = new WebSocket(`${wsBase}/ws?topics=`);
await new Promise((r) => (publisher.onopen = r));
let acked = 0;
publisher.onmessage = (ev) => {
  if (JSON.parse(String(ev.data)).op === "ack") acked++;
};
const pad = "p".repeat(size);

/** Publishes at `rate` for `seconds`, paced on the clock (not by sleeping a fixed time per message). */
async function publishPhase(): Promise<number> {
  const total = rate * seconds;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) + 1;
    for (; sent < Math.min(due, total); sent++) {
      const stamp = performance.timeOrigin + performance.now();
      publisher.send(JSON.stringify({ op: "publish", topic: "chat", data: { content: `${stamp}|${pad}` } }));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return total;
}

async function openConnections(): Promise<number> {
  const health = (await (await fetch(`${server.url}/health`)).json()) as { connections: { ws: number; sse: number } };
  return health.connections.ws + health.connections.sse;
}

/** A WebSocket on raw TCP that completes its handshake and never reads again. */
async function stalledWebSocket(port: number, path: string): Promise<Socket> {
  const sock = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  sock.setNoDelay(true);
  sock.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    sock.once("data", (chunk) => (String(chunk).startsWith("HTTP/1.1 101") ? resolve() : reject(new Error(String(chunk)))));
  });
  sock.pause();
  return sock;
}

/** An SSE stream on raw TCP that gets its headers and never reads again. */
async function stalledSse(port: number): Promise<Socket> {
  const sock = connect(port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  sock.write("GET /events?topics=chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  await new Promise((r) => sock.once("data", r));
  sock.pause();
  return sock;
}

interface Phase {
  phase: string;
  round: number;
  sent: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  rssMb: number;
  stalledOpenAfter?: number;
}
const phases: Phase[] = [];
for (let round = 0; round < rounds; round++) {
  for (const phase of ["baseline", "stalled"] as const) {
    const stalled: Socket[] = [];
    const openBefore = await openConnections();
    if (phase === "stalled" && values.stall !== "sse") stalled.push(await stalledWebSocket(server.port, "/ws?topics=chat"));
    if (phase === "stalled" && values.stall !== "ws") stalled.push(await stalledSse(server.port));
    phaseLatencies = [];
    received = 0;
    const ackedBefore = acked;
    const sent = await publishPhase();
    // Wait until every acked message reached every normal client (or 5 s pass: that is loss).
    const end = Date.now() + 5000;
    while ((acked - ackedBefore < sent || received < sent * clients) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    const openAfter = await openConnections();
    const sorted = phaseLatencies.sort((a, b) => a - b);
    phases.push({
      phase,
      round,
      sent,
      delivered: received,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1) ?? NaN,
      rssMb: (await rss()) / 2 ** 20,
      stalledOpenAfter: phase === "stalled" ? openAfter - openBefore : undefined,
    });
    for (const s of stalled) s.destroy();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99Base = median(phases.filter((p) => p.phase === "baseline").map((p) => p.p99));
const p99Stalled = median(phases.filter((p) => p.phase === "stalled").map((p) => p.p99));
const metrics = await (await fetch(`${server.url}/metrics`)).text();
const drops = [...metrics.matchAll(/tickwire_events_dropped_total\{topic="([^"]+)",reason="([^"]+)"\} (\d+)/g)].map((m) => ({
  topic: m[1],
  reason: m[2],
  count: Number(m[3]),
}));
const result = {
  benchmark: "stalled-client",
  at: new Date().toISOString(),
  clients,
  rate,
  seconds,
  rounds,
  size,
  phases,
  p99Ratio: p99Stalled / p99Base,
  loss: phases.reduce((n, p) => n + (p.sent * clients - p.delivered), 0),
  drops,
};
for (const ws of sockets) ws.close();
publisher.close();
await server.stop();
await writeResult("stalled-client", result);
printTable(
  ["round", "phase", "sent", "delivered", "p50 ms", "p99 ms", "max ms", "RSS MB", "stalled still open"],
  phases.map((p) => [p.round, p.phase, p.sent, p.delivered, p.p50, p.p99, p.max, p.rssMb, p.stalledOpenAfter ?? ""]),
);
console.log(`p99 with stalled / without (median of rounds): ${result.p99Ratio.toFixed(3)}x; loss to normal clients: ${result.loss}`);
console.log(`drops: ${JSON.stringify(drops)}`);
process.exit(0);
