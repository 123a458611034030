/** Shared output for benchmarks: percentiles, a printed table, JSON results in bench/results/. */

/** The `q` quantile (0..1) of an ascending array, nearest-rank. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Writes `bench/results/<name>.json`. */
export async function writeResult(name: string, result: unknown): Promise<string> {
  const path = `${import.meta.dir}/../results/${name}.json`;
  await Bun.write(path, JSON.stringify(result, null, 2) + "\n");
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
