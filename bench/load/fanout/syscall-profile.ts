/**
 * Where a saturated fanout server's time goes, beside its latency: the same load as fanout.ts
 * (1000 subscribers in C, one publisher) against each variant in turn, rounds interleaved, with
 * `perf stat` counting the server's syscalls (`sendto` per delivery shows how well writes are
 * batched) and `/proc/<pid>/task/*\/stat` splitting its CPU by thread (main thread against JIT and
 * GC helpers). Variants: `bare` (the bare relay), `bare-sized` (its frames padded to tickwire's),
 * `embedded`, `wd5` (`WRITE_DELAY_MS=5`), `redis` (Redis Streams; Redis's own CPU is not counted).
 *
 *   bun bench/load/fanout/syscall-profile.ts [--rate 2250] [--seconds 6] [--rounds 3] [--variants bare,embedded]
 * Needs `perf` (root, or kernel.perf_event_paranoid ≤ 1) and `cc` for the C subscribers.
 * Prints one JSON line per run, then a table.
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { printTable } from "../../support/report.ts";
import { runLoad } from "./client.ts";
import { launch, type ServerKind } from "./server.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "2250" },
    seconds: { type: "string", default: "6" },
    variants: { type: "string", default: "bare,embedded" },
    rounds: { type: "string", default: "3" },
  },
});
const VARIANTS: Record<string, { kind: ServerKind; env: Record<string, string> }> = {
  bare: { kind: "bare", env: {} },
  "bare-sized": { kind: "bare", env: { BARE_RELAY_PAD_BYTES: "142" } },
  embedded: { kind: "embedded", env: {} },
  wd5: { kind: "embedded", env: { WRITE_DELAY_MS: "5" } },
  redis: { kind: "redis", env: {} },
};
const EVENTS = ["sendto", "recvfrom", "futex"].map((s) => `syscalls:sys_enter_${s}`).concat("context-switches");

/** CPU ms per thread name of process `pid` (threads of one name summed). */
function threadCpuMs(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10;
  }
  return out;
}

const names = values.variants.split(",").map((v) => v.trim());
for (const n of names) if (!VARIANTS[n]) throw new Error(`--variants: unknown variant ${n}; use ${Object.keys(VARIANTS).join(", ")}`);
const seconds = Number(values.seconds);
const servers = new Map<string, Awaited<ReturnType<typeof launch>>>();
const rows: (string | number)[][] = [];
try {
  for (const n of names) servers.set(n, await launch(VARIANTS[n]!.kind, { env: VARIANTS[n]!.env }));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const n of names) {
      const server = servers.get(n)!;
      await server.quiesce(3000);
      const before = threadCpuMs(server.pid);
      const perf = Bun.spawn(["perf", "stat", "-x", ",", "-e", EVENTS.join(","), "-p", String(server.pid), "--", "sleep", String(seconds + 1)], {
        stderr: "pipe",
        stdout: "ignore",
      });
      const res = await runLoad({
        url: server.url,
        transport: "ws",
        subscribers: 1000,
        rate: Number(values.rate),
        seconds,
        warmupSeconds: 1,
        drainMs: 1000,
        client: "native",
        serverCpuMs: server.cpuMs,
      });
      await perf.exited;
      const after = threadCpuMs(server.pid);
      const counts: Record<string, number> = {};
      for (const line of (await new Response(perf.stderr).text()).trim().split("\n")) {
        const f = line.split(",");
        if (f[2]) counts[f[2].replace("syscalls:sys_enter_", "")] = Number(f[0]);
      }
      const threads = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
      const main = threads.bun ?? threads["bun.exe"] ?? 0;
      const helpers = Object.entries(threads).reduce((sum, [k, v]) => (k === "bun" || k === "bun.exe" ? sum : sum + v), 0);
      const p99 = res.latencies[Math.floor(res.latencies.length * 0.99)] ?? Number.NaN;
      console.log(JSON.stringify({ round, variant: n, p99, lost: res.lost, serverCpuMs: res.serverCpuMs, clientCpuMs: res.clientCpuMs, ...counts, threads }));
      rows.push([
        round,
        n,
        p99.toFixed(1),
        res.lost,
        main,
        helpers,
        Math.round(res.clientCpuMs),
        counts.sendto ?? "",
        counts.sendto ? (res.deliveries / counts.sendto).toFixed(1) : "",
        counts.futex ?? "",
        counts["context-switches"] ?? "",
      ]);
    }
  }
} finally {
  for (const s of servers.values()) await s.stop();
}
printTable(["round", "variant", "p99 ms", "lost", "main thread ms", "other threads ms", "client ms", "sendto", "frames/sendto", "futex", "ctx switches"], rows);
