/**
 * Capacity, not just latency (issue #18): with a fixed number of subscribers, the highest publish
 * rate each variant's one server process sustains with p99 ≤ 100 ms, nothing lost and the rate
 * actually offered (`capacity-ramp.ts`: walk up the steps, bisect between the last pass and the
 * first fail, a failed rate tried twice). The ramps of all variants run interleaved: each step
 * runs every variant still ramping once, in a rotated order. Variants (one server process each,
 * the fanout benchmark's servers and client, `fanout/`):
 * - `bare`: the bare Bun relay over WebSocket (the baseline); `bare-sse`: its SSE stream (frames
 *   padded to tickwire's chat frame size, as in `fanout.ts`), the baseline of `sse`;
 * - `embedded`: tickwire `/ws`; `embedded-wd5`: the same with `WRITE_DELAY_MS=5` (write
 *   coalescing); `embedded-serial`: the same without JSC's concurrent GC and JIT threads (what
 *   those helper threads cost on 2 cores); `redis`: tickwire with Redis Streams; `sse`: tickwire `/events`;
 * - `bare-sized`: the bare relay with its frames padded to tickwire's chat frame (`--ws-pad`, 206 B
 *   against the 64 B op, as `fanout.ts` measures), which tells the frame's bytes from tickwire's code.
 * Targets (issue #18): `embedded` ≥ 0.95x `bare` (coalescing off), `embedded-wd5` ≥ 1.5x `bare`,
 * `sse` ≥ 1.5x `bare-sse` (SSE coalescing: since 930e8dd tickwire writes a turn's events to a
 * stream in one write, always; there is no setting to turn it off).
 * Capacity is reported as deliveries/s (rate × subscribers, all delivered) with the server's CPU
 * per delivery and the cores busy at that rate, and as ratios against `bare` (`sse` against
 * `bare-sse`) with the range the bisection brackets allow. A run during which other processes kept
 * more than `--max-other-cores` busy (tests run without the benchmark lock) is run again, at most
 * `--reruns` times per variant (Redis's own CPU counts as the `redis` variant's, not as other).
 *
 *   bun bench/load/capacity.ts [--subscribers 1000] [--steps 100,200,400,800,1000,1500,2000,3000,4000]
 *     [--resolution 0.05] [--bisections 4] [--retries 1] [--seconds 3] [--warmup 1] [--drain-ms 1000]
 *     [--max-other-cores 0.35] [--reruns 6] [--max-p99 100] [--min-offered 0.95] [--variants bare,bare-sized,embedded,embedded-wd5,redis,sse,bare-sse]
 *     [--env <variant>:KEY=VALUE ...] [--sized-pad 130] [--name capacity] [--client auto|native|js]
 * The subscribers are the C ones (`fanout/native-subscribers.c`, `--client native`, the default
 * where `cc` exists): the JavaScript ones cost about as much CPU per delivery as the server, so on
 * 2 cores they saturated first and set every variant's capacity (`--client js` still runs them).
 * Writes bench/results/<name>.json and <name>.svg (p99 against offered rate per variant), prints a table.
 * @module
 */
import { parseArgs } from "node:util";
import { pidsNamed, processCpuMs, provenance } from "../support/machine-cpu.ts";
import { printTable, writeResult } from "../support/report.ts";
import { writeSvg } from "../support/svg-chart.ts";
import { capacityTable, rampAll, writeDelayInUse } from "./capacity-report.ts";
import type { Transport } from "./fanout/client.ts";
import { chooseClient } from "./fanout/native-client.ts";
import { type LaunchedServer, launch, type ServerKind } from "./fanout/server.ts";

interface CapacityVariant {
  name: string;
  server: ServerKind;
  transport: Transport;
  env: Record<string, string>;
  against?: string;
  target?: number;
}

const { values } = parseArgs({
  options: {
    subscribers: { type: "string", default: "1000" },
    steps: { type: "string", default: "100,200,400,800,1000,1500,2000,3000,4000" },
    resolution: { type: "string", default: "0.05" },
    bisections: { type: "string", default: "4" },
    retries: { type: "string", default: "1" },
    seconds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    "drain-ms": { type: "string", default: "1000" },
    "max-p99": { type: "string", default: "100" },
    "min-offered": { type: "string", default: "0.95" },
    "max-other-cores": { type: "string", default: "0.35" },
    reruns: { type: "string", default: "6" },
    variants: { type: "string", default: "bare,bare-sized,embedded,embedded-wd5,redis,sse,bare-sse" },
    env: { type: "string", multiple: true, default: [] },
    "sized-pad": { type: "string", default: "130" },
    "ws-pad": { type: "string", default: "142" },
    name: { type: "string", default: "capacity" },
    client: { type: "string", default: "auto" },
  },
});

/** JSC without its concurrent GC, concurrent JIT and parallel markers: what tickwire's helper threads cost on 2 cores. */
const SERIAL_JSC = { BUN_JSC_useConcurrentGC: "0", BUN_JSC_useConcurrentJIT: "0", BUN_JSC_numberOfGCMarkers: "1" };
const pairs = (list: string[]) => Object.fromEntries(list.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
const CATALOGUE: Record<string, CapacityVariant> = {
  bare: { name: "bare", server: "bare", transport: "ws", env: {} },
  embedded: { name: "embedded", server: "embedded", transport: "ws", env: {}, against: "bare", target: 0.95 },
  "embedded-wd5": { name: "embedded-wd5", server: "embedded", transport: "ws", env: { WRITE_DELAY_MS: "5" }, against: "bare", target: 1.5 },
  "embedded-serial": { name: "embedded-serial", server: "embedded", transport: "ws", env: SERIAL_JSC, against: "bare" },
  redis: { name: "redis", server: "redis", transport: "ws", env: {}, against: "bare" },
  sse: { name: "sse", server: "embedded", transport: "sse", env: {}, against: "bare-sse", target: 1.5 },
  "bare-sse": { name: "bare-sse", server: "bare", transport: "sse", env: { BARE_RELAY_PAD_BYTES: values["sized-pad"] } },
  "bare-sized": { name: "bare-sized", server: "bare", transport: "ws", env: { BARE_RELAY_PAD_BYTES: values["ws-pad"] } },
};
const names = values.variants.split(",").map((v) => v.trim());
for (const n of names) if (!CATALOGUE[n]) throw new Error(`--variants: unknown variant ${n}; use ${Object.keys(CATALOGUE).join(", ")}`);
for (const e of values.env) {
  const [variant, kv] = [e.slice(0, e.indexOf(":")), e.slice(e.indexOf(":") + 1)];
  if (!CATALOGUE[variant]) throw new Error(`--env ${e}: unknown variant ${variant}`);
  Object.assign(CATALOGUE[variant]!.env, pairs([kv]));
}
const variants = names.map((n) => CATALOGUE[n]!);
const subscribers = Number(values.subscribers);

const chosen = await chooseClient(values.client);
const options = {
  subscribers,
  client: chosen.client,
  seconds: Number(values.seconds),
  warmupSeconds: Number(values.warmup),
  drainMs: Number(values["drain-ms"]),
  rule: { maxP99Ms: Number(values["max-p99"]), minOffered: Number(values["min-offered"]) },
  maxOtherCores: Number(values["max-other-cores"]),
  ramp: {
    steps: values.steps.split(",").map(Number),
    resolution: Number(values.resolution),
    maxBisections: Number(values.bisections),
    retries: Number(values.retries),
    minRate: 5,
    rerunsIfDisturbed: Number(values.reruns),
  },
};
// One server process per variant (as fanout.ts): a run that fell behind must not leave another
// variant's server flushing its backlog.
const servers = new Map<string, LaunchedServer>();
let run: Awaited<ReturnType<typeof rampAll>>;
try {
  for (const v of variants) servers.set(v.name, await launch(v.server, { env: v.env }));
  const redisCpuMs = async () => (await Promise.all(pidsNamed("redis-server").map(processCpuMs))).reduce((a, b) => a + b, 0);
  run = await rampAll(
    variants.map((v) => ({ ...v, server: { ...servers.get(v.name)!, companionCpuMs: v.server === "redis" ? redisCpuMs : undefined } })),
    options,
  );
} finally {
  for (const s of servers.values()) await s.stop();
}
const wd5 = names.includes("embedded-wd5") ? await writeDelayInUse() : undefined;
const notes = [
  chosen.note ?? "",
  wd5 === false
    ? "WRITE_DELAY_MS is read by src/config but used nowhere else in src/ at this commit: embedded-wd5 runs the same code as embedded (its ratio to embedded is this run's noise)"
    : "",
].filter(Boolean);

const result = {
  benchmark: "capacity",
  at: new Date().toISOString(),
  command: `bun bench/load/capacity.ts ${process.argv.slice(2).join(" ")}`.trim(),
  subscribers,
  cpus: navigator.hardwareConcurrency,
  cpuModel: (await Bun.file("/proc/cpuinfo").text()).match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown",
  bun: Bun.version,
  /** The commit measured and the src/ files others had changed in the working tree meanwhile. */
  code: await provenance(),
  client: chosen.client,
  loadAverage: (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).map(Number),
  minutes: run.minutes,
  notes,
  ...run.result,
};
const jsonPath = await writeResult(values.name, result);
const svgPath = await writeSvg(values.name, run.chart(`Capacity ramp, ${subscribers} subscribers: p99 against offered rate`));
printTable(...capacityTable(run.result.variants));
for (const n of notes) console.log(`note: ${n}`);
if (result.code.uncommittedSrc.length) console.log(`note: measured ${result.code.commit} plus uncommitted changes to ${result.code.uncommittedSrc.join(", ")}`);
console.log(`${run.minutes.toFixed(1)} min; load average after the run: ${result.loadAverage.join(" ")} (${result.cpus} cores)`);
console.log(`\n${jsonPath}\n${svgPath}`);
