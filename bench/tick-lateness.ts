/**
 * Runs a tickwire server (a child process, default settings) for a while with a cron subscriber
 * and reports tick lateness: how long after each wall-clock boundary the cron frame reached the
 * client (server lateness + fanout + loopback), the server's own lateness histogram from
 * /metrics, skipped ticks and cumulative drift.
 *
 *   bun bench/tick-lateness.ts [--seconds 60] [--tick-ms 1000] [--clients 1]
 * Writes bench/results/tick-lateness.json and prints a table.
 */
import { parseArgs } from "node:util";
import { percentile, printTable, writeResult } from "./support/report.ts";
import { spawnServer } from "../test/support/server.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    "tick-ms": { type: "string", default: "1000" },
    clients: { type: "string", default: "1" },
  },
});
const seconds = Number(values.seconds);
const tickMs = Number(values["tick-ms"]);
const clients = Number(values.clients);

const server = await spawnServer({ TICK_MS: String(tickMs), LOG_LEVEL: "info" });
const lateness: number[] = [];
const boundaries: number[] = [];
const sockets: WebSocket[] = [];
for (let i = 0; i < clients; i++) {
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`);
  const primary = i === 0;
  ws.onmessage = (ev) => {
    const now = performance.timeOrigin + performance.now();
    const frame = JSON.parse(String(ev.data));
    if (frame.event !== "cron_tick" || !primary) return;
    const at = Date.parse(frame.message);
    boundaries.push(at);
    lateness.push(now - at);
  };
  sockets.push(ws);
}
console.error(`measuring ${seconds} s of ticks every ${tickMs} ms with ${clients} client(s)...`);
await new Promise((r) => setTimeout(r, seconds * 1000)); // the measurement window itself
const metrics = await (await fetch(`${server.url}/metrics`)).text();
for (const ws of sockets) ws.close();
server.proc.kill("SIGTERM");
await server.exited;

// Server-side histogram → quantile upper bounds.
const buckets = [...metrics.matchAll(/tickwire_tick_lateness_seconds_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => ({ le: Number(m[1]), count: Number(m[2]) }));
const total = buckets.at(-1)?.count ?? 0;
const bucketQuantile = (q: number) => (buckets.find((b) => b.count >= q * total)?.le ?? NaN) * 1000;
const skipped = Number(/tickwire_ticks_skipped_total (\d+)/.exec(metrics)?.[1] ?? 0);
const span = boundaries.length > 1 ? boundaries.at(-1)! - boundaries[0]! : 0;
const drift = span - (boundaries.length - 1) * tickMs - skipped * tickMs;

const sorted = [...lateness].sort((a, b) => a - b);
const result = {
  benchmark: "tick-lateness",
  at: new Date().toISOString(),
  seconds,
  tickMs,
  clients,
  ticks: lateness.length,
  clientObservedMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN },
  serverHistogramMs: { p50UpperBound: bucketQuantile(0.5), p99UpperBound: bucketQuantile(0.99), observations: total },
  skippedTicks: skipped,
  cumulativeDriftMs: drift,
};
await writeResult("tick-lateness", result);
printTable(
  ["measure", "p50 ms", "p99 ms", "max ms"],
  [
    ["client-observed lateness", result.clientObservedMs.p50, result.clientObservedMs.p99, result.clientObservedMs.max],
    ["server lateness (histogram bucket bound)", result.serverHistogramMs.p50UpperBound, result.serverHistogramMs.p99UpperBound, ""],
  ],
);
console.log(`ticks ${result.ticks}, skipped ${skipped}, cumulative drift ${drift} ms`);
