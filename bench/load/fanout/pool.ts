/**
 * Pools the rounds of several `fanout.ts` runs: each run's per-round p99 ratios (a variant's p99
 * over its baseline's p99 in the same round) are put together and judged again, median with a
 * bootstrap 90% confidence interval that resamples runs, then rounds within them, so that the
 * spread between runs stays in the interval. One 10-round run on a noisy machine often cannot
 * tell 1.05x from 1.15x; more runs that agree narrow the interval, runs that disagree widen it.
 *
 *   bun bench/load/fanout/pool.ts bench/results/fanout.json bench/results/fanout-2.json …
 * (`bun bench/load/fanout/fanout.ts --name fanout-2` writes a run under another name.)
 * @module
 */
import { judgeRatio, printTable, verdictCell, writeResult } from "../../support/report.ts";

interface RunFile {
  benchmark: string;
  at: string;
  subscribers: number;
  rate: number;
  rounds: number;
  variants: {
    variant: string;
    lost: number;
    serverCpuUsPerDelivery: number;
    p99Ratio?: { against: string; target: number; perRound: (number | null)[]; cpuPerDelivery?: number };
  }[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: bun bench/load/fanout/pool.ts <fanout result .json> [more …]");
  process.exit(2);
}
const runs: RunFile[] = [];
for (const file of files) {
  const run = (await Bun.file(file).json()) as RunFile;
  if (run.benchmark !== "fanout") throw new Error(`${file}: not a fanout result (benchmark: ${run.benchmark})`);
  runs.push(run);
}
const loads = new Set(runs.map((r) => `${r.subscribers}x${r.rate}`));
if (loads.size > 1) throw new Error(`the runs used different loads (${[...loads].join(", ")}); pool runs of one load only`);

const pooled = new Map<string, { against: string; target: number; byRun: number[][]; ratios: number[]; cpu: number[]; lost: number; runs: number }>();
for (const [i, run] of runs.entries()) {
  for (const v of run.variants) {
    if (!v.p99Ratio) continue;
    const entry = pooled.get(v.variant) ?? { against: v.p99Ratio.against, target: v.p99Ratio.target, byRun: [], ratios: [], cpu: [], lost: 0, runs: 0 };
    if (entry.against !== v.p99Ratio.against || entry.target !== v.p99Ratio.target) {
      throw new Error(
        `${files[i]}: ${v.variant} is judged against ${v.p99Ratio.against} ≤ ${v.p99Ratio.target}x there, ${entry.against} ≤ ${entry.target}x in an earlier file`,
      );
    }
    // JSON turns a round without a ratio (NaN) into null; judgeRatio counts those.
    const perRound = v.p99Ratio.perRound.map((x) => (x === null ? NaN : x));
    entry.byRun.push(perRound);
    entry.ratios.push(...perRound);
    if (v.p99Ratio.cpuPerDelivery !== undefined) entry.cpu.push(v.p99Ratio.cpuPerDelivery);
    entry.lost += v.lost;
    entry.runs++;
    pooled.set(v.variant, entry);
  }
}

const rows = [...pooled].map(([variant, e]) => ({ variant, ...e, judged: judgeRatio(e.byRun, e.target) }));
await writeResult("fanout-pooled", {
  benchmark: "fanout-pooled",
  at: new Date().toISOString(),
  files,
  runs: runs.map((r) => ({ at: r.at, rounds: r.rounds })),
  variants: rows.map((r) => ({
    variant: r.variant,
    against: r.against,
    target: r.target,
    runs: r.runs,
    rounds: r.judged.rounds,
    invalidRounds: r.judged.invalidRounds,
    median: r.judged.median,
    ci90: r.judged.ci,
    verdict: r.judged.verdict,
    cpuRatioPerRun: r.cpu,
    lost: r.lost,
    perRound: r.ratios,
  })),
});
printTable(
  ["variant", "against", "runs", "rounds", "p99 ratio median", "90% CI", "cpu ratio per run", "lost", "target"],
  rows.map((r) => [
    r.variant,
    r.against,
    r.runs,
    r.judged.invalidRounds ? `${r.judged.rounds} (+${r.judged.invalidRounds} without a ratio)` : r.judged.rounds,
    `${r.judged.median.toFixed(2)}x`,
    `[${r.judged.ci.lo.toFixed(2)}, ${r.judged.ci.hi.toFixed(2)}]`,
    r.cpu.map((c) => c.toFixed(2)).join(", "),
    r.lost,
    verdictCell(r.judged, r.target),
  ]),
);
