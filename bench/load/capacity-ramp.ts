/**
 * The capacity ramp of `capacity.ts` and `peers/peers.ts`: the highest publish rate a server
 * sustains under a pass rule (p99 ≤ a bound, nothing lost, the rate actually offered). A
 * {@link Ramp} walks a list of rates up until one fails, then bisects between the last pass and
 * that first fail until the gap is within a resolution; a failed rate is tried again before it
 * counts (`retries`), so one disturbed run does not end a ramp early. {@link runRamps} runs
 * several variants' ramps step by step, every still-running variant once per step in an order
 * rotated each step, so background load changes hit all variants alike; a run the caller marks
 * `disturbed` (other processes used the machine meanwhile) is not counted and its rate is run
 * again, up to `rerunsIfDisturbed` times per variant.
 * @module
 */

import { percentile } from "../support/report.ts";
import type { LoadResult } from "./fanout/client.ts";

export interface RampOptions {
  /** Offered rates, msg/s, ascending; the walk up stops at the first fail. */
  steps: number[];
  /** Bisection ends once (first fail − last pass) / first fail ≤ this. */
  resolution: number;
  /** At most this many bisection runs (retries not counted). */
  maxBisections: number;
  /** A failed rate is run again this many times; it is a fail only if every try fails. */
  retries: number;
  /** No rate below this is tried (when even the first step fails, bisection goes toward 0). */
  minRate: number;
  /** Runs marked `disturbed` that are run again instead of counted, per variant (default 0). */
  rerunsIfDisturbed?: number;
}

export class Ramp {
  /** Highest rate that passed (below the first fail). */
  lastPass: number | undefined;
  /** Lowest rate that failed (every try). */
  firstFail: number | undefined;
  private step = 0;
  private bisections = 0;
  private readonly tries = new Map<number, number>();
  private retry: number | undefined;

  constructor(readonly options: RampOptions) {}

  /** The next rate to run, or `undefined` when the ramp is done. */
  next(): number | undefined {
    if (this.retry !== undefined) return this.retry;
    const o = this.options;
    if (this.firstFail === undefined) return o.steps[this.step];
    const lo = this.lastPass ?? 0;
    const hi = this.firstFail;
    if (this.bisections >= o.maxBisections || (hi - lo) / hi <= o.resolution) return undefined;
    const mid = Math.round((lo + hi) / 2);
    if (mid <= lo || mid >= hi || mid < o.minRate) return undefined;
    return mid;
  }

  /** Records the outcome of a run at `rate` (the rate `next()` gave). */
  record(rate: number, passed: boolean): void {
    const bisecting = this.firstFail !== undefined;
    if (passed) {
      this.retry = undefined;
      this.lastPass = rate;
      if (bisecting) this.bisections++;
      else this.step++;
      return;
    }
    const tries = (this.tries.get(rate) ?? 0) + 1;
    this.tries.set(rate, tries);
    if (tries <= this.options.retries) {
      this.retry = rate;
      return;
    }
    this.retry = undefined;
    this.firstFail = rate;
    if (bisecting) this.bisections++;
  }

  /** The capacity found: `lo` passed, `hi` failed (`null`: every step passed, capacity ≥ lo). */
  get bracket(): { lo: number; hi: number | null } {
    return { lo: this.lastPass ?? 0, hi: this.firstFail ?? null };
  }
}

/**
 * `a`'s capacity over `b`'s: the ratio of the rates that passed, and the range the brackets
 * allow (`a.lo / b.hi` to `a.hi / b.lo`; open ends are `null`).
 */
export function capacityRatio(a: Ramp["bracket"], b: Ramp["bracket"]): { ratio: number; lo: number | null; hi: number | null } {
  return {
    ratio: a.lo / b.lo,
    lo: b.hi === null ? null : a.lo / b.hi,
    hi: a.hi === null ? null : a.hi / b.lo,
  };
}

/**
 * A target `ratio ≥ min`: `met` when even the bracket's low end reaches it, `missed` when even its
 * high end does not, else `within resolution` (the bisection cannot tell), with the side the
 * ratio of the passes fell on.
 */
export function judgeCapacity(r: ReturnType<typeof capacityRatio>, min: number): string {
  if (r.lo !== null && r.lo >= min) return `≥ ${min}x met`;
  if (r.hi !== null && r.hi < min) return `≥ ${min}x MISSED`;
  return `≥ ${min}x within resolution (${r.ratio >= min ? "passes above" : "passes below"})`;
}

export interface PassRule {
  /** p99 delivery latency bound, ms. */
  maxP99Ms: number;
  /** Deliveries per second must reach this share of rate × subscribers (the publisher kept up). */
  minOffered: number;
}

/** Whether one run passes, and if not, why. */
export function judgeStep(r: LoadResult, rule: PassRule): { passed: boolean; p99Ms: number; why: string } {
  const p99Ms = percentile(r.latencies, 0.99);
  const offered = r.deliveredPerSecond / (r.rate * r.subscribers);
  const why = [
    r.lost > 0 ? `lost ${r.lost}` : "",
    r.publishErrors > 0 ? `${r.publishErrors} publish errors` : "",
    !(p99Ms <= rule.maxP99Ms) ? `p99 ${p99Ms.toFixed(1)} ms` : "",
    offered < rule.minOffered ? `delivered ${(offered * 100).toFixed(0)}% of the offered rate` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return { passed: why === "", p99Ms, why };
}

/**
 * Runs every variant's ramp, interleaved: each step runs each variant whose ramp is not done once,
 * at that variant's next rate, in an order rotated by one each step. Every run is kept in `runs`;
 * a disturbed one (while reruns are left) with `counted: false`.
 */
export async function runRamps<T extends { passed: boolean; disturbed?: boolean }>(
  names: readonly string[],
  options: RampOptions,
  run: (name: string, rate: number) => Promise<T>,
): Promise<Map<string, { ramp: Ramp; runs: (T & { rate: number; counted: boolean })[] }>> {
  const state = new Map(names.map((n) => [n, { ramp: new Ramp(options), runs: [] as (T & { rate: number; counted: boolean })[], reruns: 0 }]));
  for (let step = 0; ; step++) {
    const active = names.filter((n) => state.get(n)!.ramp.next() !== undefined);
    if (active.length === 0) return state;
    for (let k = 0; k < active.length; k++) {
      const s = state.get(active[(k + step) % active.length]!)!;
      const rate = s.ramp.next()!;
      const outcome = await run(active[(k + step) % active.length]!, rate);
      const counted = !outcome.disturbed || s.reruns++ >= (options.rerunsIfDisturbed ?? 0);
      if (counted) s.ramp.record(rate, outcome.passed);
      s.runs.push({ ...outcome, rate, counted });
    }
  }
}
