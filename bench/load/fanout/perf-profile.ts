/**
 * Where a fanout server's CPU goes, by `perf` (Linux): the same load as bench/load/fanout/fanout.ts
 * against one variant at a time, `perf record` on the server while it runs, then the split of
 * samples between the kernel, Bun's native code and JIT-compiled JavaScript, and the top symbols.
 * `bun --cpu-prof` only sees JavaScript (and in Bun 1.4.5 charges idle time to the last JS frame);
 * at this load most of the time is in the kernel's TCP send path, which only `perf` shows.
 *
 *   bun bench/load/fanout/perf-profile.ts [--variants bare,embedded,redis,sse,bare-sse] [--subscribers 1000]
 *     [--rate 100] [--seconds 6] [--top 15]
 * Needs `perf` on PATH and permission to profile another process (root, or
 * kernel.perf_event_paranoid ≤ 1). Writes bench/results/perf-<variant>.data and
 * bench/results/perf-profile.json; prints a table.
 * @module
 */
import { parseArgs } from "node:util";
import { printTable, writeResult } from "../../support/report.ts";
import { runLoad, type Transport } from "./client.ts";
import { launch, type ServerKind } from "./server.ts";

const { values } = parseArgs({
  options: {
    variants: { type: "string", default: "bare,embedded,redis,sse,bare-sse" },
    subscribers: { type: "string", default: "1000" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "6" },
    top: { type: "string", default: "15" },
  },
});
const VARIANTS: Record<string, { kind: ServerKind; transport: Transport }> = {
  bare: { kind: "bare", transport: "ws" },
  "bare-sse": { kind: "bare", transport: "sse" },
  embedded: { kind: "embedded", transport: "ws" },
  redis: { kind: "redis", transport: "ws" },
  sse: { kind: "embedded", transport: "sse" },
};
if (Bun.which("perf") === null) {
  console.error("perf-profile: `perf` is not on PATH (Debian: apt-get install linux-perf)");
  process.exit(2);
}
const resultsDir = `${import.meta.dir}/../../results`;
const seconds = Number(values.seconds);

/** `perf report` rows `<percent> <column>` (header and blank lines skipped). */
function report(file: string, sort: string): { pct: number; name: string }[] {
  const out = Bun.spawnSync(["perf", "report", "-i", file, "--no-children", "-g", "none", "--sort", sort, "--stdio"], { stderr: "ignore" });
  const rows: { pct: number; name: string }[] = [];
  for (const line of out.stdout.toString().split("\n")) {
    const m = /^\s*([\d.]+)%\s+(.*\S)\s*$/.exec(line);
    if (m) rows.push({ pct: Number(m[1]), name: m[2]!.replace(/\s+/g, " ") });
  }
  return rows;
}

const results: Record<string, unknown>[] = [];
for (const name of values.variants.split(",").map((v) => v.trim())) {
  const variant = VARIANTS[name];
  if (!variant) throw new Error(`--variants: unknown variant ${name}; use ${Object.keys(VARIANTS).join(", ")}`);
  // bare-sse sends frames padded to tickwire's size, as in fanout.ts.
  const server = await launch(variant.kind, name === "bare-sse" ? { env: { BARE_RELAY_PAD_BYTES: "130" } } : {});
  const file = `${resultsDir}/perf-${name}.data`;
  try {
    // Warm-up is 1 s of the load; the recording covers the measured seconds.
    const load = runLoad({
      url: server.url,
      transport: variant.transport,
      subscribers: Number(values.subscribers),
      rate: Number(values.rate),
      seconds,
      warmupSeconds: 1,
      drainMs: 2000,
      serverCpuMs: server.cpuMs,
    });
    const perf = Bun.spawn(["perf", "record", "-F", "999", "-o", file, "-p", String(server.pid), "--", "sleep", String(seconds)], {
      stdout: "ignore",
      stderr: "ignore",
    });
    const res = await load;
    await perf.exited;
    const byDso = report(file, "dso");
    const share = (match: (dso: string) => boolean) => byDso.filter((r) => match(r.name)).reduce((n, r) => n + r.pct, 0);
    const kernel = share((d) => d.includes("kernel"));
    const jit = share((d) => d.startsWith("[JIT]") || d.includes("perf-"));
    const native = share((d) => !d.includes("kernel") && !d.startsWith("[JIT]") && !d.includes("perf-"));
    const top = report(file, "sym").slice(0, Number(values.top));
    results.push({
      variant: name,
      cpuUsPerDelivery: (res.serverCpuMs! * 1000) / res.deliveries,
      lost: res.lost,
      kernelPct: kernel,
      nativePct: native,
      jitPct: jit,
      top,
    });
  } finally {
    await server.stop();
  }
}

await writeResult("perf-profile", {
  benchmark: "perf-profile",
  at: new Date().toISOString(),
  subscribers: Number(values.subscribers),
  rate: Number(values.rate),
  seconds,
  variants: results,
});
printTable(
  ["variant", "cpu µs/deliv", "kernel %", "Bun native %", "JIT (JS) %", "top symbols"],
  results.map((r) => [
    r.variant,
    (r.cpuUsPerDelivery as number).toFixed(2),
    (r.kernelPct as number).toFixed(1),
    (r.nativePct as number).toFixed(1),
    (r.jitPct as number).toFixed(1),
    (r.top as { pct: number; name: string }[])
      .slice(0, 4)
      .map((t) => `${t.pct}% ${t.name.replace(/^\[[k.]\] /, "")}`)
      .join(", "),
  ]),
);
