/**
 * Fanout under load: one publisher, N subscribers in this process, the server in another.
 * Variants, all measured in the same run and interleaved round by round (the order rotates so
 * that no variant always runs first or last while the machine's background load changes):
 * - `bare`: the bare Bun relay (baseline: one `server.publish` per message, the op text as is);
 * - `bare-sized`: the same relay padding each frame to the size of tickwire's chat frame for the
 *   same content (`--sized-pad`, by default measured on a tickwire server of the run:
 *   frame-size.ts), to tell the cost of the bytes the SPEC's frame carries from tickwire's own;
 * - `embedded`: tickwire, in-process topic log, publishing with the WS `publish` op on `chat`;
 * - `embedded-wd5`: the same with `WRITE_DELAY_MS=5` (frames held 5 ms, then written together);
 * - `redis`: the same through Redis Streams (XADD, then the tailer's XREAD, then publish);
 * - `sse`: the embedded server, subscribers on `GET /events?topics=chat` instead of `/ws`;
 * - `bare-sse`: the bare relay's SSE stream (`data: <frame>\n\n`, one write per event, padded so
 *   that each event is as large as tickwire's SSE event, `id:` line included: `--sse-pad`).
 *
 *   bun bench/load/fanout/fanout.ts [--subscribers 1000] [--rate 100] [--seconds 8] [--warmup 1]
 *     [--rounds 10] [--variants bare,bare-sized,embedded,embedded-wd5,redis,sse,bare-sse] [--ws-client raw|bun]
 *     [--cpu-prof <dir>] [--bare-pad <bytes>] [--sized-pad auto|<bytes>] [--sse-pad auto|<bytes>] [--name fanout]
 *     [--client js|native|auto]
 * `--client native` puts the subscribers in a C process (native-subscribers.c), which costs a
 * fraction of the JavaScript readers' CPU per delivery: the figures are then more the server's.
 * Targets are judged against `bare` (`sse` against `bare-sse`); the ratios against `bare-sized`,
 * `embedded-wd5` against `bare` and `sse` against `embedded` are printed after the table.
 * Writes bench/results/<name>.json and <name>.svg (latency CDF per variant), prints a table.
 * @module
 */
import { parseArgs } from "node:util";
import { judgeRatio, median, percentile, printTable, verdictCell, writeResult } from "../../support/report.ts";
import { cdfChart, writeSvg } from "../../support/svg-chart.ts";
import { type LoadResult, runLoad, type Transport } from "./client.ts";
import { type FrameSizes, measureFrameSizes } from "./frame-size.ts";
import { chooseClient } from "./native-client.ts";
import { type LaunchedServer, launch, type ServerKind } from "./server.ts";

type Variant = "bare" | "bare-sized" | "embedded" | "embedded-wd5" | "redis" | "sse" | "bare-sse";
const SERVER_OF: Record<Variant, ServerKind> = {
  bare: "bare",
  "bare-sized": "bare",
  embedded: "embedded",
  "embedded-wd5": "embedded",
  redis: "redis",
  sse: "embedded",
  "bare-sse": "bare",
};
const TRANSPORT_OF: Record<Variant, Transport> = {
  bare: "ws",
  "bare-sized": "ws",
  embedded: "ws",
  "embedded-wd5": "ws",
  redis: "ws",
  sse: "sse",
  "bare-sse": "sse",
};
/** What each variant's p99 is compared with, and the target ratio (issue 7; SSE: issue 18). */
const TARGETS: Record<Variant, { against: Variant; max: number } | undefined> = {
  bare: undefined,
  "bare-sized": undefined,
  embedded: { against: "bare", max: 1.1 },
  "embedded-wd5": undefined,
  redis: { against: "bare", max: 1.3 },
  sse: { against: "bare-sse", max: 1.25 },
  "bare-sse": undefined,
};

const { values } = parseArgs({
  options: {
    subscribers: { type: "string", default: "1000" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "8" },
    warmup: { type: "string", default: "1" },
    rounds: { type: "string", default: "10" },
    variants: { type: "string", default: "bare,bare-sized,embedded,redis,sse,bare-sse" },
    "drain-ms": { type: "string", default: "2000" },
    "cpu-prof": { type: "string" },
    name: { type: "string", default: "fanout" },
    "ws-client": { type: "string", default: "raw" },
    client: { type: "string", default: "js" },
    "bare-pad": { type: "string", default: "0" },
    "sized-pad": { type: "string", default: "auto" },
    "sse-pad": { type: "string", default: "auto" },
  },
});
const chosen = await chooseClient(values.client);
const subscribers = Number(values.subscribers);
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const variants = values.variants.split(",").map((v) => v.trim()) as Variant[];
for (const v of variants) if (!(v in SERVER_OF)) throw new Error(`--variants: unknown variant ${v}; use ${Object.keys(SERVER_OF).join(", ")}`);

// One server process per variant: an SSE run that falls behind must not leave the WebSocket
// variant's server flushing its backlog. tickwire's servers start first: one of them tells the
// frame sizes the bare relay's padded variants must match.
const servers = new Map<Variant, LaunchedServer>();
const TICKWIRE_ENV: Partial<Record<Variant, Record<string, string>>> = { "embedded-wd5": { WRITE_DELAY_MS: "5" } };
for (const v of variants.filter((v) => SERVER_OF[v] !== "bare")) {
  servers.set(v, await launch(SERVER_OF[v], { cpuProfDir: values["cpu-prof"], env: TICKWIRE_ENV[v] ?? {}, name: v }));
}
const probe = [...servers.entries()].find(([v]) => SERVER_OF[v] === "embedded")?.[1] ?? servers.values().next().value;
const frameSizes: FrameSizes | undefined = probe ? await measureFrameSizes(probe.url) : undefined;
/** A pad given on the command line, else the measured one, else the sizes of this frames. */
const padOf = (arg: string, measured: number | undefined, fallback: number) => String(arg !== "auto" ? Number(arg) : (measured ?? fallback));
const sizedPad = padOf(values["sized-pad"], frameSizes?.wsPad, 142);
const ssePad = padOf(values["sse-pad"], frameSizes?.ssePad, 162);
const BARE_PAD: Partial<Record<Variant, string>> = { bare: values["bare-pad"], "bare-sized": sizedPad, "bare-sse": ssePad };
for (const v of variants.filter((v) => SERVER_OF[v] === "bare")) {
  servers.set(v, await launch("bare", { cpuProfDir: values["cpu-prof"], env: { BARE_RELAY_PAD_BYTES: BARE_PAD[v]! }, name: v }));
}

const perRound: Record<string, LoadResult>[] = [];
try {
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
    const results: Record<string, LoadResult> = {};
    for (const v of order) {
      const server = servers.get(v)!;
      await server.quiesce();
      const res = await runLoad({
        url: server.url,
        transport: TRANSPORT_OF[v] === "ws" && values["ws-client"] === "bun" ? "ws-bun" : TRANSPORT_OF[v],
        subscribers,
        rate,
        seconds: Number(values.seconds),
        warmupSeconds: Number(values.warmup),
        drainMs: Number(values["drain-ms"]),
        serverCpuMs: server.cpuMs,
        client: chosen.client,
      });
      results[v] = res;
      console.error(
        `round ${r + 1}/${rounds} ${v.padEnd(12)} p50 ${percentile(res.latencies, 0.5).toFixed(3)} ms  p99 ${percentile(res.latencies, 0.99).toFixed(3)} ms  ` +
          `lost ${res.lost}  server cpu ${res.serverCpuMs} ms`,
      );
    }
    perRound.push(results);
  }
} finally {
  for (const s of servers.values()) await s.stop();
}
const loadAvg = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).map(Number);

const q = percentile;
const pooled = (v: Variant, key: "latencies" | "completions") => {
  const parts = perRound.map((r) => r[v]![key]);
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) all.set(p, o), (o += p.length);
  return all.sort();
};

const summary = variants.map((v) => {
  const lat = pooled(v, "latencies");
  const comp = pooled(v, "completions");
  const runs = perRound.map((r) => r[v]!);
  const p99s = runs.map((r) => q(r.latencies, 0.99));
  const target = TARGETS[v];
  const ratios = target && variants.includes(target.against) ? perRound.map((r) => q(r[v]!.latencies, 0.99) / q(r[target.against]!.latencies, 0.99)) : [];
  return {
    variant: v,
    latencyMs: { p50: q(lat, 0.5), p90: q(lat, 0.9), p99: q(lat, 0.99), max: lat.at(-1) ?? NaN },
    completionMs: { p50: q(comp, 0.5), p99: q(comp, 0.99) },
    lost: runs.reduce((n, r) => n + r.lost, 0),
    expectedDeliveries: runs.reduce((n, r) => n + r.expectedDeliveries, 0),
    duplicatesOrReordered: runs.reduce((n, r) => n + r.duplicatesOrReordered, 0),
    publishErrors: runs.reduce((n, r) => n + r.publishErrors, 0),
    deliveredPerSecond: median(runs.map((r) => r.deliveredPerSecond)),
    connectMs: median(runs.map((r) => r.connectMs)),
    /** Server CPU per run (warm-up + measured + drain), ms: how close it was to saturation. */
    serverCpuMsPerRound: runs.map((r) => r.serverCpuMs),
    /**
     * Cores kept busy over the publishing phase (CPU ms / wall ms, median over rounds), by the
     * server and by this process (publisher and subscribers). Near 1 each on 2 cores means the
     * machine was saturated: latency is then mostly queueing, and small CPU differences show up
     * magnified in the tail.
     */
    coresBusy: {
      server: median(runs.map((r) => (r.serverCpuMs ?? NaN) / r.phaseMs)),
      client: median(runs.map((r) => r.clientCpuMs / r.phaseMs)),
    },
    /**
     * Server CPU per delivery, µs (median over rounds; warm-up included, connecting not). CPU time is
     * far less disturbed by other processes than latency, so this ratio is the steadier one.
     */
    serverCpuUsPerDelivery: median(runs.map((r) => ((r.serverCpuMs ?? NaN) * 1000) / ((Number(values.warmup) * rate + r.messages) * subscribers))),
    perRoundP99Ms: p99s,
    /** Spread of this variant's own p99 across rounds: (max - min) / median. */
    p99Noise: (Math.max(...p99s) - Math.min(...p99s)) / median(p99s),
    /** The worst round's p99 over the median round's: how stable the tail is (issue 18: ≤ 2). */
    worstOverMedianRound: Math.max(...p99s) / median(p99s),
    p99Ratio: (target && ratios.length
      ? (() => {
          const judged = judgeRatio([ratios], target.max);
          return {
            against: target.against,
            target: target.max,
            median: judged.median,
            ci90: judged.ci,
            verdict: judged.verdict,
            medianMet: judged.medianMet,
            min: Math.min(...ratios),
            max: Math.max(...ratios),
            perRound: ratios,
          };
        })()
      : undefined) as
      | {
          against: Variant;
          target: number;
          median: number;
          ci90: { lo: number; hi: number };
          verdict: "met" | "missed" | "within noise";
          medianMet: boolean;
          min: number;
          max: number;
          perRound: number[];
          pooled?: number;
          cpuPerDelivery?: number;
        }
      | undefined,
    sorted: lat,
  };
});
// Ratios of the pooled figures (all rounds together) and of server CPU per delivery.
for (const s of summary) {
  const target = TARGETS[s.variant];
  const base = target && summary.find((x) => x.variant === target.against);
  if (!s.p99Ratio || !base) continue;
  Object.assign(s.p99Ratio, { pooled: s.latencyMs.p99 / base.latencyMs.p99, cpuPerDelivery: s.serverCpuUsPerDelivery / base.serverCpuUsPerDelivery });
}

/** `v`'s p99 against another variant's, round by round, with the pooled and CPU ratios. */
const sideBySide = (v: Variant, against: Variant) => {
  const ratios = perRound.map((r) => q(r[v]!.latencies, 0.99) / q(r[against]!.latencies, 0.99));
  const s = summary.find((x) => x.variant === v)!;
  const b = summary.find((x) => x.variant === against)!;
  const judged = judgeRatio([ratios], 1);
  return {
    variant: v,
    against,
    median: judged.median,
    ci90: judged.ci,
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    perRound: ratios,
    pooled: s.latencyMs.p99 / b.latencyMs.p99,
    cpuPerDelivery: s.serverCpuUsPerDelivery / b.serverCpuUsPerDelivery,
  };
};

// tickwire's chat frame is larger than the op text the bare relay forwards (197 B against 67 B
// for the same content, as the SPEC's frame shape requires): the same comparison against a bare
// relay sending frames of that size separates the cost of the bytes from tickwire's own.
const sized = variants.includes("bare-sized")
  ? (["embedded", "redis"] as const).filter((v) => variants.includes(v)).map((v) => sideBySide(v, "bare-sized"))
  : [];

// SSE against tickwire's own WebSocket under the same load (issue 7's comparison), and the
// write-delayed WebSocket against the bare relay (the latency WRITE_DELAY_MS trades for CPU).
const sseVsWs = variants.includes("sse") && variants.includes("embedded") ? sideBySide("sse", "embedded") : undefined;
const delayedVsBare = variants.includes("embedded-wd5") && variants.includes("bare") ? sideBySide("embedded-wd5", "bare") : undefined;

const result = {
  benchmark: "fanout",
  at: new Date().toISOString(),
  command: `bun bench/load/fanout/fanout.ts ${process.argv.slice(2).join(" ")}`.trim(),
  subscribers,
  rate,
  secondsPerRun: Number(values.seconds),
  rounds,
  /** Who subscribed: the JavaScript readers (client.ts) or the C ones (native-subscribers.c). */
  client: chosen.client,
  barePadBytes: Number(values["bare-pad"]),
  sizedPadBytes: Number(sizedPad),
  ssePadBytes: Number(ssePad),
  /** tickwire's frame sizes measured on one of this run's servers (frame-size.ts), if any ran. */
  frameSizes,
  cpus: navigator.hardwareConcurrency,
  /** The machine's load average after the run: other processes compete for the same cores. */
  loadAverage: loadAvg,
  variants: summary.map(({ sorted, ...rest }) => rest),
  /** p99 ratios against the bare relay sending tickwire-sized frames (`bare-sized`). */
  againstSizedBare: sized,
  /** `sse` against tickwire's WebSocket (`embedded`). */
  sseAgainstEmbedded: sseVsWs,
  /** `embedded-wd5` against the bare relay (`bare`). */
  writeDelayAgainstBare: delayedVsBare,
};
const jsonPath = await writeResult(values.name, result);
const svgPath = await writeSvg(
  values.name,
  cdfChart(
    `Fanout latency, ${subscribers} subscribers × ${rate} msg/s (${rounds} interleaved rounds)`,
    "publish → delivery latency, ms",
    summary.map((s) => ({ name: `${s.variant} (p99 ${s.latencyMs.p99.toFixed(2)} ms)`, sorted: s.sorted })),
  ),
);

printTable(
  [
    "variant",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "last-sub p50",
    "last-sub p99",
    "lost",
    "deliv/s",
    "cpu µs/deliv",
    "cores busy srv/cli",
    "p99 noise",
    "worst/median round",
    "p99 ratio per round (median, 90% CI, min–max)",
    "pooled p99 ratio",
    "cpu ratio",
    "target",
  ],
  summary.map((s) => [
    s.variant,
    s.latencyMs.p50,
    s.latencyMs.p90,
    s.latencyMs.p99,
    s.latencyMs.max,
    s.completionMs.p50,
    s.completionMs.p99,
    s.lost,
    Math.round(s.deliveredPerSecond),
    s.serverCpuUsPerDelivery,
    `${s.coresBusy.server.toFixed(2)} / ${s.coresBusy.client.toFixed(2)}`,
    `${(s.p99Noise * 100).toFixed(0)}%`,
    `${s.worstOverMedianRound.toFixed(2)}x`,
    s.p99Ratio
      ? `${s.p99Ratio.median.toFixed(2)}x vs ${s.p99Ratio.against} [${s.p99Ratio.ci90.lo.toFixed(2)}, ${s.p99Ratio.ci90.hi.toFixed(2)}] (${s.p99Ratio.min.toFixed(2)}–${s.p99Ratio.max.toFixed(2)})`
      : "baseline",
    s.p99Ratio?.pooled !== undefined ? `${s.p99Ratio.pooled.toFixed(2)}x` : "",
    s.p99Ratio?.cpuPerDelivery !== undefined ? `${s.p99Ratio.cpuPerDelivery.toFixed(2)}x` : "",
    s.p99Ratio ? verdictCell(s.p99Ratio, s.p99Ratio.target) : "",
  ]),
);
for (const r of sized) {
  console.log(
    `${r.variant} vs bare-sized (same frame size): p99 ratio per round ${r.median.toFixed(2)}x (${r.min.toFixed(2)}–${r.max.toFixed(2)}), pooled ${r.pooled.toFixed(2)}x, cpu ${r.cpuPerDelivery.toFixed(2)}x`,
  );
}
for (const [r, what] of [
  [sseVsWs, "tickwire's SSE against its WebSocket"],
  [delayedVsBare, "WRITE_DELAY_MS=5 against the bare relay"],
] as const) {
  if (!r) continue;
  console.log(
    `${r.variant} vs ${r.against} (${what}): p99 ratio per round ${r.median.toFixed(2)}x [${r.ci90.lo.toFixed(2)}, ${r.ci90.hi.toFixed(2)}] (${r.min.toFixed(2)}–${r.max.toFixed(2)}), pooled ${r.pooled.toFixed(2)}x, cpu ${r.cpuPerDelivery.toFixed(2)}x`,
  );
}
if (frameSizes) {
  console.log(
    `frame sizes (measured): tickwire WS frame ${frameSizes.wsFrameBytes} B, SSE event ${frameSizes.sseEventBytes} B for a ${frameSizes.opBytes} B op; bare pads: sized ${sizedPad}, sse ${ssePad}`,
  );
}
console.log(`load average after the run: ${loadAvg.join(" ")} (${navigator.hardwareConcurrency} cores)`);
console.log(`\n${jsonPath}\n${svgPath}`);
