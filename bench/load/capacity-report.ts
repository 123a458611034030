/**
 * What `capacity.ts` and `peers/peers.ts` share: {@link rampAll} runs the interleaved capacity
 * ramps (`capacity-ramp.ts`) of servers already started, one fanout load (`fanout/client.ts`)
 * per step and variant, and summarises each variant (capacity with its bracket, deliveries/s,
 * server CPU per delivery and cores busy at that rate, ratio against its baseline). A run starts
 * once other processes keep at most `maxOtherCores` busy (waiting 30 s at most); one during which
 * they kept more busy anyway is marked disturbed and run again;
 * {@link capacityTable} prints that; the chart is p99 against offered rate.
 * @module
 */
import { lineChart } from "../support/line-chart.ts";
import { machineBusyMs, waitForQuiet } from "../support/machine-cpu.ts";
import { median, percentile } from "../support/report.ts";
import { capacityRatio, judgeCapacity, judgeStep, type PassRule, type RampOptions, runRamps } from "./capacity-ramp.ts";
import { type Dialect, type LoadResult, runLoad, type Transport } from "./fanout/client.ts";

export interface ServerHandle {
  url: string;
  cpuMs(): Promise<number>;
  quiesce(maxMs?: number): Promise<void>;
  /** CPU time of processes that are part of the variant but not the server (Redis), ms. */
  companionCpuMs?: () => Promise<number>;
}

export interface RampVariant {
  name: string;
  transport: Transport;
  dialect?: Dialect;
  server: ServerHandle;
  /** The variant whose capacity this one's is divided by, and the target ratio (≥), if any. */
  against?: string;
  target?: number;
}

export interface RampAllOptions {
  subscribers: number;
  seconds: number;
  warmupSeconds: number;
  drainMs: number;
  rule: PassRule;
  ramp: RampOptions;
  /** Cores other processes may keep busy during a run before it counts as disturbed (default 0.35). */
  maxOtherCores?: number;
  /** One line per run (default: stderr). */
  log?: (line: string) => void;
  /** Who subscribes (client.ts `LoadOptions.client`; default `js`). */
  client?: "js" | "native";
}

/** One run of a ramp, as kept in the results. */
export interface RunRecord {
  rate: number;
  passed: boolean;
  why: string;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  lost: number;
  publishErrors: number;
  deliveredPerSecond: number;
  /** Server CPU per delivery over warm-up, measured seconds and drain, µs. */
  serverCpuUsPerDelivery: number;
  coresBusy: { server: number; client: number };
  /** Cores kept busy by every other process on the machine over the same phase. */
  otherCores: number;
  disturbed: boolean;
}

function record(r: LoadResult, warmupSeconds: number, judged: ReturnType<typeof judgeStep>, otherCores: number, maxOtherCores: number): RunRecord {
  const sent = (Math.round(warmupSeconds * r.rate) + r.messages) * r.subscribers;
  return {
    rate: r.rate,
    passed: judged.passed,
    why: judged.why,
    p50Ms: percentile(r.latencies, 0.5),
    p99Ms: judged.p99Ms,
    maxMs: r.latencies.at(-1) ?? NaN,
    lost: r.lost,
    publishErrors: r.publishErrors,
    deliveredPerSecond: r.deliveredPerSecond,
    serverCpuUsPerDelivery: ((r.serverCpuMs ?? NaN) * 1000) / sent,
    coresBusy: { server: (r.serverCpuMs ?? NaN) / r.phaseMs, client: r.clientCpuMs / r.phaseMs },
    otherCores,
    disturbed: otherCores > maxOtherCores,
  };
}

/**
 * One load against `v`, with the machine's and the companion's CPU sampled at the same two
 * moments as the server's (the publishing phase's ends), so "other" is everything else.
 */
export async function measuredLoad(
  v: { server: ServerHandle; transport: Transport; dialect?: Dialect },
  o: Omit<Parameters<typeof runLoad>[0], "url" | "transport" | "dialect" | "serverCpuMs">,
) {
  const machine: number[] = [];
  const companion: number[] = [];
  const r = await runLoad({
    ...o,
    url: v.server.url,
    transport: v.transport,
    dialect: v.dialect,
    serverCpuMs: async () => {
      const [m, c, s] = await Promise.all([machineBusyMs(), v.server.companionCpuMs?.() ?? 0, v.server.cpuMs()]);
      machine.push(m);
      companion.push(c);
      return s;
    },
  });
  const othersMs = machine[1]! - machine[0]! - (companion[1]! - companion[0]!) - (r.serverCpuMs ?? 0) - r.clientCpuMs;
  return { r, otherCores: Math.max(0, othersMs) / r.phaseMs };
}

export type VariantSummary = ReturnType<typeof summarise>;

function summarise(v: RampVariant, bracket: { lo: number; hi: number | null }, runs: (RunRecord & { counted: boolean })[], firstStep: number) {
  // The pass at the capacity rate (the latest, if a rate was retried), and the fail that bounded it.
  const best = runs.findLast((r) => r.counted && r.passed && r.rate === bracket.lo);
  const fail = bracket.hi === null ? undefined : runs.findLast((r) => r.counted && !r.passed && r.rate === bracket.hi);
  const atFirst = runs.find((r) => r.counted && r.rate === firstStep && r.passed);
  return {
    variant: v.name,
    transport: v.transport,
    capacityMsgPerS: bracket.lo,
    /** Lowest rate that failed (every try); `null`: no step failed, capacity ≥ the last step. */
    firstFailMsgPerS: bracket.hi,
    capacityDeliveriesPerS: best?.deliveredPerSecond ?? 0,
    atCapacity: best ?? null,
    firstFail: fail ?? null,
    /** Server CPU per delivery at the first step (the same rate for every variant that passed it). */
    cpuUsPerDeliveryAtFirstStep: atFirst?.serverCpuUsPerDelivery ?? NaN,
    /** Runs not counted because other processes used the machine meanwhile (run again instead). */
    disturbedRuns: runs.filter((r) => !r.counted).length,
    against: v.against,
    target: v.target,
    ratio: undefined as (ReturnType<typeof capacityRatio> & { verdict?: string; cpuAtCapacity: number; cpuAtFirstStep: number }) | undefined,
    runs,
  };
}

/** Runs every variant's ramp, interleaved, and summarises them with their ratios. */
export async function rampAll(variants: RampVariant[], o: RampAllOptions) {
  const log = o.log ?? ((line: string) => console.error(line));
  const byName = new Map(variants.map((v) => [v.name, v]));
  const t0 = performance.now();
  const state = await runRamps(
    variants.map((v) => v.name),
    o.ramp,
    async (name, rate) => {
      const v = byName.get(name)!;
      await v.server.quiesce();
      await waitForQuiet(o.maxOtherCores ?? 0.35, async () => (await v.server.cpuMs()) + ((await v.server.companionCpuMs?.()) ?? 0));
      const { r, otherCores } = await measuredLoad(v, {
        subscribers: o.subscribers,
        rate,
        seconds: o.seconds,
        warmupSeconds: o.warmupSeconds,
        drainMs: o.drainMs,
        client: o.client,
      });
      const rec = record(r, o.warmupSeconds, judgeStep(r, o.rule), otherCores, o.maxOtherCores ?? 0.35);
      log(
        `${name.padEnd(14)} ${String(rate).padStart(5)} msg/s  ${rec.passed ? "pass" : "FAIL"}  p50 ${rec.p50Ms.toFixed(2)} p99 ${rec.p99Ms.toFixed(2)} ms  lost ${rec.lost}  ` +
          `cpu ${rec.serverCpuUsPerDelivery.toFixed(2)} µs/deliv  cores ${rec.coresBusy.server.toFixed(2)}/${rec.coresBusy.client.toFixed(2)}/${rec.otherCores.toFixed(2)}` +
          `${rec.why ? `  (${rec.why})` : ""}${rec.disturbed ? "  DISTURBED" : ""}`,
      );
      return rec;
    },
  );
  const minutes = (performance.now() - t0) / 60_000;
  const summaries = variants.map((v) => {
    const s = state.get(v.name)!;
    return summarise(v, s.ramp.bracket, s.runs, o.ramp.steps[0]!);
  });
  for (const s of summaries) {
    const base = s.against ? summaries.find((b) => b.variant === s.against) : undefined;
    if (!base) continue;
    const r = capacityRatio({ lo: s.capacityMsgPerS, hi: s.firstFailMsgPerS }, { lo: base.capacityMsgPerS, hi: base.firstFailMsgPerS });
    s.ratio = {
      ...r,
      verdict: s.target === undefined ? undefined : judgeCapacity(r, s.target),
      cpuAtCapacity: (s.atCapacity?.serverCpuUsPerDelivery ?? NaN) / (base.atCapacity?.serverCpuUsPerDelivery ?? NaN),
      cpuAtFirstStep: s.cpuUsPerDeliveryAtFirstStep / base.cpuUsPerDeliveryAtFirstStep,
    };
  }
  return {
    minutes,
    result: { options: { ...o, log: undefined }, variants: summaries },
    chart: (title: string) =>
      lineChart(
        title,
        "offered rate, msg/s",
        "p99 delivery latency, ms",
        summaries.map((s) => ({
          name: `${s.variant} (${s.capacityMsgPerS}${s.firstFailMsgPerS === null ? "+" : ""} msg/s)`,
          // The line joins each rate's median p99 (a rate run twice zigzags otherwise); dots are every counted run.
          points: [...new Set(s.runs.map((r) => r.rate))].map(
            (rate) => [rate, median(s.runs.filter((r) => r.counted && r.rate === rate).map((r) => r.p99Ms))] as [number, number],
          ),
          samples: s.runs.filter((r) => r.counted).map((r) => [r.rate, r.p99Ms] as [number, number]),
        })),
        { y: o.rule.maxP99Ms, label: `pass: p99 ≤ ${o.rule.maxP99Ms} ms, 0 lost` },
      ),
  };
}

const x = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : `${v.toFixed(digits)}x`);

/** The header and rows of the capacity table (for `printTable`), with a row per skipped variant. */
export function capacityTable(summaries: VariantSummary[], skipped: { variant: string; why: string }[] = []): [string[], unknown[][]] {
  return [
    [
      "variant",
      "capacity msg/s (pass–fail)",
      "deliveries/s",
      "p99 at cap ms",
      "cpu µs/deliv at cap",
      "cores busy srv/cli/other",
      "first fail",
      "capacity ratio [range]",
      "cpu ratio at cap / at 1st step",
      "target",
      "disturbed runs",
    ],
    [
      ...summaries.map((s) => [
        s.variant,
        `${s.capacityMsgPerS}–${s.firstFailMsgPerS ?? "∞"}`,
        Math.round(s.capacityDeliveriesPerS),
        s.atCapacity?.p99Ms ?? NaN,
        s.atCapacity?.serverCpuUsPerDelivery ?? NaN,
        s.atCapacity
          ? `${s.atCapacity.coresBusy.server.toFixed(2)} / ${s.atCapacity.coresBusy.client.toFixed(2)} / ${s.atCapacity.otherCores.toFixed(2)}`
          : "–",
        s.firstFail ? `${s.firstFail.rate}: ${s.firstFail.why}` : "none",
        s.ratio ? `${x(s.ratio.ratio)} vs ${s.against} [${x(s.ratio.lo)}, ${x(s.ratio.hi)}]` : "baseline",
        s.ratio ? `${x(s.ratio.cpuAtCapacity)} / ${x(s.ratio.cpuAtFirstStep)}` : "",
        s.ratio?.verdict ?? "",
        s.disturbedRuns,
      ]),
      ...skipped.map((s) => [s.variant, "–", "–", "–", "–", "–", `skipped: ${s.why}`, "", "", "", ""]),
    ],
  ];
}

/** Whether anything in src/ outside src/config/ reads `writeDelayMs` (the setting is implemented). */
export async function writeDelayInUse(): Promise<boolean> {
  const root = `${import.meta.dir}/../../src`;
  for await (const file of new Bun.Glob("**/*.ts").scan({ cwd: root })) {
    if (file.startsWith("config/") || file.endsWith(".test.ts")) continue;
    if ((await Bun.file(`${root}/${file}`).text()).includes("writeDelayMs")) return true;
  }
  return false;
}
