/**
 * The latency half of the peers benchmark: interleaved rounds at one rate (each round runs every
 * variant once, the order rotated by one each round, the server quiesced before each run, as in
 * `fanout.ts`), then per variant the pooled percentiles, loss, server CPU per delivery, cores busy,
 * and its p99 and CPU against its baseline (tickwire on the same transport): per-round ratios with
 * the median and a 90% bootstrap interval (`judgeRatio`), and the ratio of the pooled p99s. A run
 * starts once the machine is quiet (`waitForQuiet`); one during which other processes kept more
 * than `maxOtherCores` busy anyway is run again (twice at most,
 * and at most `rounds` times per variant), so that a test run elsewhere does not make a round.
 * @module
 */

import { waitForQuiet } from "../../support/machine-cpu.ts";
import { judgeRatio, median, percentile } from "../../support/report.ts";
import { measuredLoad, type ServerHandle } from "../capacity-report.ts";
import type { Dialect, LoadResult, Transport } from "../fanout/client.ts";

export interface RoundVariant {
  name: string;
  transport: Transport;
  dialect?: Dialect;
  server: ServerHandle;
  against?: string;
}

export interface RoundsOptions {
  subscribers: number;
  rate: number;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  drainMs: number;
  /** Cores other processes may keep busy during a run before it is run again. */
  maxOtherCores: number;
  /** Who subscribes (`../fanout/client.ts` `LoadOptions.client`; default `js`). */
  client?: "js" | "native";
}

function pool(runs: LoadResult[]): Float64Array {
  const all = new Float64Array(runs.reduce((n, r) => n + r.latencies.length, 0));
  let o = 0;
  for (const r of runs) all.set(r.latencies, o), (o += r.latencies.length);
  return all.sort();
}

export async function latencyRounds(variants: RoundVariant[], o: RoundsOptions) {
  const t0 = performance.now();
  const perRound: Map<string, LoadResult>[] = [];
  const others = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const reruns = new Map<string, number>(variants.map((v) => [v.name, 0]));
  for (let r = 0; r < o.rounds; r++) {
    const results = new Map<string, LoadResult>();
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + r) % variants.length]!;
      await v.server.quiesce();
      await waitForQuiet(o.maxOtherCores, v.server.cpuMs);
      let { r: res, otherCores } = await measuredLoad(v, o);
      for (let again = 0; again < 2 && otherCores > o.maxOtherCores && reruns.get(v.name)! < o.rounds; again++) {
        reruns.set(v.name, reruns.get(v.name)! + 1);
        console.error(`round ${r + 1}/${o.rounds} ${v.name.padEnd(13)} disturbed (other processes ${otherCores.toFixed(2)} cores): run again`);
        await v.server.quiesce();
        await waitForQuiet(o.maxOtherCores, v.server.cpuMs);
        ({ r: res, otherCores } = await measuredLoad(v, o));
      }
      results.set(v.name, res);
      others.get(v.name)!.push(otherCores);
      console.error(
        `round ${r + 1}/${o.rounds} ${v.name.padEnd(13)} p50 ${percentile(res.latencies, 0.5).toFixed(2)} ms  p99 ${percentile(res.latencies, 0.99).toFixed(2)} ms  ` +
          `lost ${res.lost}  server cpu ${res.serverCpuMs} ms  other processes ${otherCores.toFixed(2)} cores`,
      );
    }
    perRound.push(results);
  }
  const sent = (Math.round(o.warmupSeconds * o.rate) + Math.round(o.seconds * o.rate)) * o.subscribers;
  const cpuUs = (r: LoadResult) => ((r.serverCpuMs ?? NaN) * 1000) / sent;
  const pooled = variants.map((v) => ({ variant: v.name, sorted: pool(perRound.map((r) => r.get(v.name)!)) }));
  const summaries = variants.map((v, i) => {
    const runs = perRound.map((r) => r.get(v.name)!);
    const lat = pooled[i]!.sorted;
    const p99s = runs.map((r) => percentile(r.latencies, 0.99));
    const base = v.against ? variants.findIndex((b) => b.name === v.against) : -1;
    const vsBase = (() => {
      if (base < 0) return undefined;
      const p99 = perRound.map((r) => percentile(r.get(v.name)!.latencies, 0.99) / percentile(r.get(v.against!)!.latencies, 0.99));
      const cpu = perRound.map((r) => cpuUs(r.get(v.name)!) / cpuUs(r.get(v.against!)!));
      const j = judgeRatio([p99], 1);
      return {
        against: v.against!,
        p99: { median: j.median, ci90: j.ci, min: Math.min(...p99), max: Math.max(...p99), perRound: p99 },
        pooledP99: percentile(lat, 0.99) / percentile(pooled[base]!.sorted, 0.99),
        cpuPerDelivery: { median: median(cpu), ci90: judgeRatio([cpu], 1).ci },
      };
    })();
    return {
      variant: v.name,
      transport: v.transport,
      latencyMs: { p50: percentile(lat, 0.5), p90: percentile(lat, 0.9), p99: percentile(lat, 0.99), max: lat.at(-1) ?? NaN },
      lost: runs.reduce((n, r) => n + r.lost, 0),
      expectedDeliveries: runs.reduce((n, r) => n + r.expectedDeliveries, 0),
      duplicatesOrReordered: runs.reduce((n, r) => n + r.duplicatesOrReordered, 0),
      publishErrors: runs.reduce((n, r) => n + r.publishErrors, 0),
      deliveredPerSecond: median(runs.map((r) => r.deliveredPerSecond)),
      serverCpuUsPerDelivery: median(runs.map(cpuUs)),
      coresBusy: {
        server: median(runs.map((r) => (r.serverCpuMs ?? NaN) / r.phaseMs)),
        client: median(runs.map((r) => r.clientCpuMs / r.phaseMs)),
        /** Every other process on the machine, per round (a disturbed round shows here). */
        otherPerRound: others.get(v.name)!,
      },
      /** Runs done again because other processes used the machine meanwhile. */
      disturbedReruns: reruns.get(v.name)!,
      perRoundP99Ms: p99s,
      p99Noise: (Math.max(...p99s) - Math.min(...p99s)) / median(p99s),
      vsBaseline: vsBase,
    };
  });
  return {
    minutes: (performance.now() - t0) / 60_000,
    result: { options: o, variants: summaries },
    pooled: pooled.map((p) => ({ ...p, p99Ms: percentile(p.sorted, 0.99) })),
  };
}

type Summary = Awaited<ReturnType<typeof latencyRounds>>["result"]["variants"][number];

/** The latency table's header and rows, with a row per skipped variant. */
export function latencyTable(summaries: Summary[], skipped: { variant: string; why: string }[]): [string[], unknown[][]] {
  const x = (v: number) => `${v.toFixed(2)}x`;
  return [
    [
      "variant",
      "p50 ms",
      "p99 ms",
      "max ms",
      "lost",
      "cpu µs/deliv",
      "cores busy srv/cli/other (max)",
      "p99 noise",
      "p99 ratio per round (median, 90% CI)",
      "pooled p99 ratio",
      "cpu ratio",
      "disturbed runs (run again)",
    ],
    [
      ...summaries.map((s) => [
        s.variant,
        s.latencyMs.p50,
        s.latencyMs.p99,
        s.latencyMs.max,
        `${s.lost} of ${s.expectedDeliveries}`,
        s.serverCpuUsPerDelivery,
        `${s.coresBusy.server.toFixed(2)} / ${s.coresBusy.client.toFixed(2)} / ${Math.max(...s.coresBusy.otherPerRound).toFixed(2)}`,
        `${(s.p99Noise * 100).toFixed(0)}%`,
        s.vsBaseline
          ? `${x(s.vsBaseline.p99.median)} vs ${s.vsBaseline.against} [${s.vsBaseline.p99.ci90.lo.toFixed(2)}, ${s.vsBaseline.p99.ci90.hi.toFixed(2)}]`
          : "baseline",
        s.vsBaseline ? x(s.vsBaseline.pooledP99) : "",
        s.vsBaseline ? x(s.vsBaseline.cpuPerDelivery.median) : "",
        s.disturbedReruns,
      ]),
      ...skipped.map((s) => [s.variant, "–", "–", "–", "–", "–", "–", "–", `skipped: ${s.why}`, "", "", ""]),
    ],
  ];
}
