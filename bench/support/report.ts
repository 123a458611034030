/** Shared output for benchmarks: percentiles, a printed table, JSON results in bench/results/. */

/** The `q` quantile (0..1) of an ascending array, nearest-rank. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Writes `bench/results/<name>.json`. */
export async function writeResult(name: string, result: unknown): Promise<string> {
  const path = `${import.meta.dir}/../results/${name}.json`;
  await Bun.write(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

const fmt = (v: unknown) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));

/** Prints an aligned text table. */
export function printTable(header: string[], rows: unknown[][]): void {
  const cells = [header, ...rows.map((r) => r.map(fmt))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(cells[0]!));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}

/** The median of `xs` (mean of the two middle values for an even count). */
export function median(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
}

/**
 * A percentile-bootstrap confidence interval for the median of per-round values, grouped by run:
 * each of `resamples` draws picks as many runs as there are, with replacement, then that run's
 * rounds with replacement, and takes the median of the lot; the interval is the
 * `(1 - level) / 2` and `(1 + level) / 2` quantiles of those medians. Resampling runs first
 * keeps the run-to-run spread (another hour, another VM) in the interval: pooled rounds are not
 * independent of the run they came from. One run is the plain bootstrap over its rounds. The
 * generator is seeded, so the same rounds always give the same interval.
 */
export function bootstrapMedianCI(runs: ArrayLike<number>[], level = 0.9, resamples = 4000, seed = 1): { lo: number; hi: number } {
  const total = runs.reduce((n, r) => n + r.length, 0);
  if (total === 0) return { lo: NaN, hi: NaN };
  let state = seed >>> 0 || 1;
  // xorshift32: enough for resampling, and reproducible.
  const rand = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const medians = new Float64Array(resamples);
  const sample: number[] = [];
  for (let b = 0; b < resamples; b++) {
    sample.length = 0;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[Math.floor(rand() * runs.length)]!;
      for (let i = 0; i < run.length; i++) sample.push(run[Math.floor(rand() * run.length)]!);
    }
    medians[b] = median(sample);
  }
  medians.sort();
  return { lo: percentile(medians, (1 - level) / 2), hi: percentile(medians, (1 + level) / 2) };
}

/** Fewer usable rounds than this and no verdict is given: the interval of 1–4 values means little. */
export const MIN_ROUNDS_FOR_VERDICT = 5;

export interface Judged {
  median: number;
  ci: { lo: number; hi: number };
  level: number;
  verdict: "met" | "missed" | "within noise";
  medianMet: boolean;
  /** Rounds judged, and rounds left out because their ratio was not a number (no deliveries). */
  rounds: number;
  invalidRounds: number;
}

/**
 * A target `ratio ≤ max` judged on per-round ratios (grouped by run): `met` or `missed` when the
 * whole confidence interval of the median is on one side of the line, otherwise `within noise`
 * (the rounds cannot tell; more rounds or runs narrow the interval), with the side the median
 * fell on. Also `within noise` with fewer than {@link MIN_ROUNDS_FOR_VERDICT} rounds, or when a
 * round had no ratio at all (it is left out and counted, never silently dropped).
 */
export function judgeRatio(runs: ArrayLike<number>[], max: number, level = 0.9): Judged {
  const finite = runs.map((r) => Array.from(r).filter(Number.isFinite)).filter((r) => r.length > 0);
  const rounds = finite.reduce((n, r) => n + r.length, 0);
  const invalidRounds = runs.reduce((n, r) => n + r.length, 0) - rounds;
  const m = median(finite.flat());
  const ci = bootstrapMedianCI(finite, level);
  const clear = rounds >= MIN_ROUNDS_FOR_VERDICT && invalidRounds === 0;
  const verdict = clear && ci.hi <= max ? "met" : clear && ci.lo > max ? "missed" : "within noise";
  return { median: m, ci, level, verdict, medianMet: m <= max, rounds, invalidRounds };
}

/** `judgeRatio`'s verdict as a table cell: `≤ 1.1x met`, `≤ 1.1x MISSED`, `≤ 1.1x within noise (median above)`. */
export function verdictCell(j: Pick<ReturnType<typeof judgeRatio>, "verdict" | "medianMet">, max: number): string {
  if (j.verdict === "met") return `≤ ${max}x met`;
  if (j.verdict === "missed") return `≤ ${max}x MISSED`;
  return `≤ ${max}x within noise (median ${j.medianMet ? "below" : "above"})`;
}
