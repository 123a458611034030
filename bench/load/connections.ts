/**
 * Idle WebSocket connections: server RSS per connection and connect rate at 10 000 connections,
 * tickwire (embedded) against the bare Bun relay, each on a fresh server process per round,
 * rounds interleaved. Clients are raw-TCP WebSockets in this process (one file each; the server
 * holds the other end), opened `--concurrency` at a time; each subscribes to `chat` through
 * `/ws?topics=chat` and then stays idle.
 *
 *   bun bench/load/connections.ts [--connections 10000] [--rounds 4] [--concurrency 256]
 *     [--variants bare,embedded] [--cpu-prof <dir>]
 * Writes bench/results/connections.json and connections.svg, prints a table.
 * @module
 */
import { parseArgs } from "node:util";
import { printTable, writeResult } from "../support/report.ts";
import { barChart, writeSvg } from "../support/svg-chart.ts";
import { openRawWs } from "./fanout/client.ts";
import { launch, type ServerKind } from "./fanout/server.ts";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "10000" },
    rounds: { type: "string", default: "4" },
    concurrency: { type: "string", default: "256" },
    variants: { type: "string", default: "bare,embedded" },
    "cpu-prof": { type: "string" },
  },
});
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const variants = values.variants.split(",") as ServerKind[];

/** RSS once it stops moving (3 reads 100 ms apart within 1%), or after 3 s. */
async function settledRss(rss: () => Promise<number>): Promise<number> {
  let prev = await rss();
  let stable = 0;
  for (let i = 0; i < 30 && stable < 3; i++) {
    await Bun.sleep(100);
    const now = await rss();
    stable = Math.abs(now - prev) / prev < 0.01 ? stable + 1 : 0;
    prev = now;
  }
  return prev;
}

const noSink = { scan: (s: string) => s.length };
const runs: { variant: ServerKind; round: number; connectMs: number; perConnectionBytes: number; rssBefore: number; rssAfter: number }[] = [];
for (let r = 0; r < rounds; r++) {
  for (const variant of r % 2 === 0 ? variants : [...variants].reverse()) {
    const server = await launch(variant, { cpuProfDir: values["cpu-prof"] });
    try {
      const rssBefore = await settledRss(server.rss);
      const t0 = performance.now();
      const subs = await openRawWs(server.url, connections, Number(values.concurrency), noSink);
      const connectMs = performance.now() - t0;
      const rssAfter = await settledRss(server.rss);
      await subs.close();
      const perConnectionBytes = (rssAfter - rssBefore) / connections;
      runs.push({ variant, round: r + 1, connectMs, perConnectionBytes, rssBefore, rssAfter });
      console.error(`round ${r + 1} ${variant.padEnd(8)} connect ${connectMs.toFixed(0)} ms, ${(perConnectionBytes / 1024).toFixed(2)} KB RSS per connection`);
    } finally {
      await server.stop();
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
};
const summary = variants.map((variant) => {
  const mine = runs.filter((x) => x.variant === variant);
  return {
    variant,
    perConnectionKB: median(mine.map((x) => x.perConnectionBytes / 1024)),
    perConnectionKBRounds: mine.map((x) => x.perConnectionBytes / 1024),
    connectMs: median(mine.map((x) => x.connectMs)),
    connectMsRounds: mine.map((x) => x.connectMs),
    connectsPerSecond: connections / (median(mine.map((x) => x.connectMs)) / 1000),
  };
});
const bare = summary.find((s) => s.variant === "bare") ?? summary[0]!;
const tw = summary.find((s) => s.variant !== "bare") ?? summary[0]!;
const result = {
  benchmark: "connections",
  at: new Date().toISOString(),
  connections,
  rounds,
  variants: summary,
  ratios: { rssPerConnection: tw.perConnectionKB / bare.perConnectionKB, connectTime: tw.connectMs / bare.connectMs },
  targets: { rssPerConnectionKB: { max: 8, met: tw.perConnectionKB <= 8 }, connectMs: { max: 3000, met: tw.connectMs < 3000 } },
  runs,
};
console.log(await writeResult("connections", result));
console.log(
  await writeSvg(
    "connections",
    barChart(
      `${connections} idle WebSocket connections (median of ${rounds} rounds)`,
      "KB per connection / seconds to connect all",
      ["RSS KB per connection", "seconds to connect all"],
      summary.map((s) => ({ label: s.variant, values: [s.perConnectionKB, s.connectMs / 1000] })),
    ),
  ),
);
printTable(
  ["variant", "RSS KB / conn", "rounds", "connect all, ms", "rounds", "conn/s", "ratio vs bare (RSS, time)"],
  summary.map((s) => [
    s.variant,
    s.perConnectionKB,
    s.perConnectionKBRounds.map((x) => x.toFixed(2)).join(", "),
    s.connectMs,
    s.connectMsRounds.map((x) => x.toFixed(0)).join(", "),
    Math.round(s.connectsPerSecond),
    s === bare ? "baseline" : `${(s.perConnectionKB / bare.perConnectionKB).toFixed(2)}x, ${(s.connectMs / bare.connectMs).toFixed(2)}x`,
  ]),
);
console.log(
  `targets: ≤ 8 KB RSS per idle connection: ${result.targets.rssPerConnectionKB.met ? "met" : "MISSED"}; ${connections} connections in < 3 s: ${result.targets.connectMs.met ? "met" : "MISSED"}`,
);
