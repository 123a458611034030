/**
 * What else the machine was doing during a measurement, and which code was measured. The load
 * benchmarks share 2 cores with whatever else runs there (tests run without the benchmark lock);
 * CPU time used by processes other than the server under test and the bench process itself, over
 * the same phase, says whether a run was disturbed. From /proc/stat (all CPUs, in clock ticks of
 * 10 ms) and /proc/<pid>/stat.
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";

/** CPU time all processes have used so far (user, nice, system, irq, softirq, steal), ms. */
export async function machineBusyMs(): Promise<number> {
  const line = (await Bun.file("/proc/stat").text()).split("\n", 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 10;
}

/** utime + stime of one process, ms (NaN once it is gone). */
export async function processCpuMs(pid: number): Promise<number> {
  try {
    const stat = await Bun.file(`/proc/${pid}/stat`).text();
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The pids whose command name (`/proc/<pid>/comm`) is `name`, e.g. `redis-server`. */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * Waits until processes other than this one and `ownCpuMs` (the server under test, idle by now)
 * have kept at most `maxOtherCores` busy over a 500 ms window, or `maxWaitMs` has passed; returns
 * the ms waited. A run then starts on a quiet machine instead of being run again afterwards.
 */
export async function waitForQuiet(maxOtherCores: number, ownCpuMs: () => Promise<number>, maxWaitMs = 30_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const [m0, o0, c0] = [await machineBusyMs(), await ownCpuMs(), process.cpuUsage()];
    const w0 = performance.now();
    await Bun.sleep(500);
    const [m1, o1, c1] = [await machineBusyMs(), await ownCpuMs(), process.cpuUsage(c0)];
    const others = (m1 - m0 - (o1 - o0) - (c1.user + c1.system) / 1000) / (performance.now() - w0);
    if (others <= maxOtherCores || performance.now() - t0 >= maxWaitMs) return performance.now() - t0;
  }
}

/** The commit measured, and the files under src/ that differed from it (others' work in progress). */
export async function provenance(): Promise<{ commit: string; uncommittedSrc: string[] }> {
  const root = `${import.meta.dir}/../..`;
  const run = async (args: string[]) => (await new Response(Bun.spawn(["git", ...args], { cwd: root, stdout: "pipe" }).stdout).text()).trimEnd();
  const commit = await run(["rev-parse", "--short", "HEAD"]);
  const status = await run(["status", "--porcelain", "--", "src"]);
  return { commit, uncommittedSrc: status ? status.split("\n").map((l) => l.slice(3)) : [] };
}
