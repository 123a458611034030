/**
 * Peers in the benchmark (issue #18): tickwire against Socket.IO 4 and nchan (nginx), on
 * WebSocket and SSE, with the same load client (`../fanout/client.ts`: raw-TCP subscribers in
 * this process, one WebSocket publisher; for Socket.IO the engine.io framing of `engine-io.ts`),
 * every server in its own process (`launch.ts`), all in one run:
 * 1. latency: `--rounds` interleaved rounds at `--rate` (order rotated each round; the default,
 *    50 msg/s × 1000, is below every peer's capacity here, so this compares latency, not overload): p50/p99/max,
 *    loss, server CPU per delivery, cores busy; p99 and CPU ratios against tickwire on the same
 *    transport, per round, with a 90% interval;
 * 2. capacity: the interleaved ramp of `../capacity-ramp.ts` (fewer steps than `capacity.ts`):
 *    the highest rate with p99 ≤ `--max-p99` ms and nothing lost, against tickwire's.
 * Variants: `tickwire-ws`, `socketio-ws`, `nchan-ws`, `tickwire-sse`, `nchan-sse`. Socket.IO has
 * no SSE transport (its HTTP fallback is long-polling), so there is no `socketio-sse`. A peer that
 * is not installed is skipped and listed as such.
 *
 *   bun bench/load/peers/peers.ts [--subscribers 1000] [--rate 50] [--rounds 5] [--seconds 4] [--warmup 1]
 *     [--steps 100,200,400,800,1600] [--bisections 3] [--retries 1] [--ramp-seconds 3] [--max-p99 100]
 *     [--variants tickwire-ws,socketio-ws,nchan-ws,tickwire-sse,nchan-sse] [--no-capacity] [--name peers]
 *     [--client js|native]
 * `--client native` (the C subscribers, `../fanout/native-subscribers.c`) speaks tickwire's paths,
 * which nchan is configured to serve too, but not engine.io: leave `socketio-ws` out with it.
 * Writes bench/results/<name>.json, <name>.svg (latency CDF) and <name>-capacity.svg (p99 against
 * offered rate), prints both tables.
 * @module
 */
import { parseArgs } from "node:util";
import { provenance } from "../../support/machine-cpu.ts";
import { printTable, writeResult } from "../../support/report.ts";
import { cdfChart, writeSvg } from "../../support/svg-chart.ts";
import { capacityTable, type RampVariant, rampAll } from "../capacity-report.ts";
import type { Dialect, Transport } from "../fanout/client.ts";
import { chooseClient } from "../fanout/native-client.ts";
import { launch } from "../fanout/server.ts";
import { socketIoDialect } from "./engine-io.ts";
import { launchNchan, launchSocketIo, type PeerServer } from "./launch.ts";
import { findNchan } from "./nchan.ts";
import { latencyRounds, latencyTable } from "./rounds.ts";

const { values } = parseArgs({
  options: {
    subscribers: { type: "string", default: "1000" },
    rate: { type: "string", default: "50" },
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "4" },
    warmup: { type: "string", default: "1" },
    "drain-ms": { type: "string", default: "2000" },
    steps: { type: "string", default: "100,200,400,800,1600" },
    bisections: { type: "string", default: "3" },
    retries: { type: "string", default: "1" },
    "ramp-seconds": { type: "string", default: "3" },
    "max-p99": { type: "string", default: "100" },
    variants: { type: "string", default: "tickwire-ws,socketio-ws,nchan-ws,tickwire-sse,nchan-sse" },
    "no-capacity": { type: "boolean", default: false },
    name: { type: "string", default: "peers" },
    client: { type: "string", default: "js" },
  },
});

interface PeerVariant {
  name: string;
  peer: "tickwire" | "socket.io" | "nchan";
  transport: Transport;
  dialect?: Dialect;
  start: () => Promise<PeerServer>;
}
const tickwire = async (): Promise<PeerServer> => {
  const s = await launch("embedded");
  return { name: "tickwire", runtime: `tickwire (embedded) on bun ${Bun.version}`, url: s.url, cpuMs: s.cpuMs, quiesce: s.quiesce, stop: s.stop };
};
const CATALOGUE: PeerVariant[] = [
  { name: "tickwire-ws", peer: "tickwire", transport: "ws", start: tickwire },
  { name: "socketio-ws", peer: "socket.io", transport: "ws", dialect: socketIoDialect, start: () => launchSocketIo() },
  { name: "nchan-ws", peer: "nchan", transport: "ws", start: launchNchan },
  { name: "tickwire-sse", peer: "tickwire", transport: "sse", start: tickwire },
  { name: "nchan-sse", peer: "nchan", transport: "sse", start: launchNchan },
];
const names = values.variants.split(",").map((v) => v.trim());
for (const n of names) if (!CATALOGUE.some((v) => v.name === n)) throw new Error(`--variants: unknown variant ${n}`);

/** Variants that cannot run here, and why (never replaced by anything else). */
const skipped: { variant: string; why: string }[] = [{ variant: "socketio-sse", why: "Socket.IO has no SSE transport (its HTTP fallback is long-polling)" }];
const nchan = findNchan();
const wanted = CATALOGUE.filter((v) => names.includes(v.name)).filter((v) => {
  if (v.peer !== "nchan" || !("missing" in nchan)) return true;
  skipped.push({ variant: v.name, why: nchan.missing });
  return false;
});

const chosen = await chooseClient(values.client);
if (chosen.client === "native" && wanted.some((v) => v.dialect?.control))
  throw new Error("--client native speaks tickwire's protocol (and nchan's, configured alike), not engine.io: leave socketio-ws out of --variants");
const subscribers = Number(values.subscribers);
const servers = new Map<string, PeerServer>();
let latency: Awaited<ReturnType<typeof latencyRounds>>;
let capacity: Awaited<ReturnType<typeof rampAll>> | undefined;
try {
  // One server process per variant, as in fanout.ts.
  for (const v of wanted) servers.set(v.name, await v.start());
  const runnable = wanted.map((v) => {
    const against = v.transport === "ws" ? "tickwire-ws" : "tickwire-sse";
    return { name: v.name, transport: v.transport, dialect: v.dialect, server: servers.get(v.name)!, against: v.name === against ? undefined : against };
  });
  latency = await latencyRounds(runnable, {
    subscribers,
    rate: Number(values.rate),
    rounds: Number(values.rounds),
    seconds: Number(values.seconds),
    warmupSeconds: Number(values.warmup),
    drainMs: Number(values["drain-ms"]),
    maxOtherCores: 0.35,
    client: chosen.client,
  });
  if (!values["no-capacity"]) {
    capacity = await rampAll(runnable satisfies RampVariant[], {
      subscribers,
      seconds: Number(values["ramp-seconds"]),
      warmupSeconds: Number(values.warmup),
      drainMs: 1000,
      rule: { maxP99Ms: Number(values["max-p99"]), minOffered: 0.95 },
      maxOtherCores: 0.35,
      client: chosen.client,
      ramp: {
        steps: values.steps.split(",").map(Number),
        resolution: 0.05,
        maxBisections: Number(values.bisections),
        retries: Number(values.retries),
        minRate: 5,
        rerunsIfDisturbed: 5,
      },
    });
  }
} finally {
  for (const s of servers.values()) await s.stop();
}

const result = {
  benchmark: "peers",
  at: new Date().toISOString(),
  command: `bun bench/load/peers/peers.ts ${process.argv.slice(2).join(" ")}`.trim(),
  subscribers,
  client: chosen.client,
  cpus: navigator.hardwareConcurrency,
  cpuModel: (await Bun.file("/proc/cpuinfo").text()).match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown",
  loadAverage: (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).map(Number),
  /** The commit measured and the src/ files others had changed in the working tree meanwhile. */
  code: await provenance(),
  servers: Object.fromEntries([...servers].map(([n, s]) => [n, s.runtime])),
  skipped,
  latency: latency.result,
  capacity: capacity?.result,
  minutes: latency.minutes + (capacity?.minutes ?? 0),
};
const jsonPath = await writeResult(values.name, result);
const svg = await writeSvg(
  values.name,
  cdfChart(
    `Peers: latency, ${subscribers} subscribers × ${values.rate} msg/s (${values.rounds} interleaved rounds)`,
    "publish → delivery latency, ms",
    latency.pooled.map((p) => ({ name: `${p.variant} (p99 ${p.p99Ms.toFixed(2)} ms)`, sorted: p.sorted })),
  ),
);
const capSvg = capacity ? await writeSvg(`${values.name}-capacity`, capacity.chart(`Peers: capacity ramp, ${subscribers} subscribers`)) : "";

for (const [n, rt] of servers) console.log(`${n}: ${rt.runtime}`);
console.log(`\nlatency at ${values.rate} msg/s × ${subscribers} subscribers, ${values.rounds} rounds:`);
printTable(...latencyTable(latency.result.variants, skipped));
if (capacity) {
  console.log(`\ncapacity (p99 ≤ ${values["max-p99"]} ms, 0 lost), ${subscribers} subscribers:`);
  printTable(...capacityTable(capacity.result.variants, skipped));
}
for (const s of skipped) console.log(`skipped ${s.variant}: ${s.why}`);
console.log(`${result.minutes.toFixed(1)} min; load average after the run: ${result.loadAverage.join(" ")} (${result.cpus} cores)`);
console.log(`\n${jsonPath}\n${svg}${capSvg ? `\n${capSvg}` : ""}`);
