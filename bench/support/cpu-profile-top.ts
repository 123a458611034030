/**
 * Summarizes a `.cpuprofile` (written by `bun --cpu-prof`) as its top functions by self time,
 * which is what the benchmark READMEs quote when a target is missed.
 *
 *   bun bench/support/cpu-profile-top.ts <file.cpuprofile> [--top 20]
 */
import { parseArgs } from "node:util";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export function topSelfTime(profile: Profile, top = 20): { fn: string; where: string; selfMs: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    // Each sample's time is the delta to the next one.
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas[i + 1] ?? 0;
      self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt);
    }
  } else {
    for (const n of profile.nodes) self.set(n.id, n.hitCount ?? 0);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const agg = new Map<string, { fn: string; where: string; us: number }>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const fn = n.callFrame.functionName || "(anonymous)";
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/main\//, "")}:${n.callFrame.lineNumber + 1}` : "";
    const key = `${fn}@${where}`;
    const a = agg.get(key) ?? { fn, where, us: 0 };
    a.us += us;
    agg.set(key, a);
  }
  return [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((a) => ({ fn: a.fn, where: a.where, selfMs: a.us / 1000, share: a.us / total }));
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "20" } } });
  for (const file of positionals) {
    const profile = (await Bun.file(file).json()) as Profile;
    console.log(`${file}: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled`);
    for (const row of topSelfTime(profile, Number(values.top))) {
      console.log(`${(row.share * 100).toFixed(1).padStart(5)}%  ${row.selfMs.toFixed(1).padStart(9)} ms  ${row.fn}  ${row.where}`);
    }
  }
}
