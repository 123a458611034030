/**
 * The thin wrapper every mitata micro benchmark ends with (as Bun's own bench/ does): mitata's
 * table on stdout, and with `--json` the raw results in bench/results/<name>.json.
 */
import { run } from "mitata";
import { writeResult } from "./report.ts";

export async function runMicro(name: string): Promise<void> {
  const result = await run({ format: "mitata" });
  if (process.argv.includes("--json")) {
    const slim = result.benchmarks.map((b) => ({
      alias: b.alias,
      baseline: b.baseline,
      runs: b.runs.map((r) => ({ name: r.name, avgNs: r.stats?.avg, p50Ns: r.stats?.p50, p99Ns: r.stats?.p99, heapAvgBytes: r.stats?.heap?.avg })),
    }));
    console.log(await writeResult(name, { benchmark: name, at: new Date().toISOString(), benchmarks: slim }));
  }
}
