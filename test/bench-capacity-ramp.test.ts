import { describe, expect, test } from "bun:test";
import { capacityRatio, judgeCapacity, judgeStep, Ramp, type RampOptions, runRamps } from "../bench/load/capacity-ramp.ts";
import type { LoadResult } from "../bench/load/fanout/client.ts";

const OPTS: RampOptions = { steps: [100, 200, 400, 800], resolution: 0.05, maxBisections: 4, retries: 0, minRate: 5 };

/** Drives a ramp against a server whose capacity is `cap` (a rate passes iff ≤ cap); returns the rates run. */
function drive(ramp: Ramp, passes: (rate: number) => boolean): number[] {
  const rates: number[] = [];
  for (let rate = ramp.next(); rate !== undefined; rate = ramp.next()) {
    rates.push(rate);
    ramp.record(rate, passes(rate));
    if (rates.length > 100) throw new Error("ramp does not end");
  }
  return rates;
}

describe("capacity ramp", () => {
  test("walks the steps up to the first fail, then bisects to the resolution", () => {
    const ramp = new Ramp(OPTS);
    expect(drive(ramp, (r) => r <= 290)).toEqual([100, 200, 400, 300, 250, 275, 288]);
    expect(ramp.bracket).toEqual({ lo: 288, hi: 300 });
  });

  test("stops after maxBisections even if the gap is wider than the resolution", () => {
    const ramp = new Ramp({ ...OPTS, maxBisections: 2 });
    expect(drive(ramp, (r) => r <= 290)).toEqual([100, 200, 400, 300, 250]);
    expect(ramp.bracket).toEqual({ lo: 250, hi: 300 });
  });

  test("every step passing leaves the top open", () => {
    const ramp = new Ramp(OPTS);
    expect(drive(ramp, () => true)).toEqual([100, 200, 400, 800]);
    expect(ramp.bracket).toEqual({ lo: 800, hi: null });
  });

  test("a first step that fails bisects toward zero, not below minRate", () => {
    const ramp = new Ramp({ ...OPTS, maxBisections: 10, minRate: 20 });
    expect(drive(ramp, () => false)).toEqual([100, 50, 25]);
    expect(ramp.bracket).toEqual({ lo: 0, hi: 25 });
  });

  test("a failed rate is tried again and counts as a fail only if every try fails", () => {
    const ramp = new Ramp({ ...OPTS, retries: 1, maxBisections: 1 });
    let tries200 = 0;
    // 200 fails once (a disturbed run), then passes; 400 fails every time.
    const rates = drive(ramp, (r) => (r === 200 ? ++tries200 > 1 : r <= 300));
    expect(rates).toEqual([100, 200, 200, 400, 400, 300]);
    expect(ramp.bracket).toEqual({ lo: 300, hi: 400 });
  });

  test("runRamps runs every unfinished variant once per step, the order rotated", async () => {
    const order: string[] = [];
    const caps: Record<string, number> = { a: 150, b: 1000, c: 50 };
    const state = await runRamps(["a", "b", "c"], { ...OPTS, maxBisections: 1 }, async (name, rate) => {
      order.push(`${name}@${rate}`);
      return { passed: rate <= caps[name]! };
    });
    expect(order.slice(0, 6)).toEqual(["a@100", "b@100", "c@100", "b@200", "c@50", "a@200"]);
    expect(state.get("a")!.ramp.bracket).toEqual({ lo: 150, hi: 200 });
    expect(state.get("b")!.ramp.bracket).toEqual({ lo: 800, hi: null });
    expect(state.get("c")!.ramp.bracket).toEqual({ lo: 50, hi: 100 });
    expect(state.get("a")!.runs.map((r) => r.rate)).toEqual([100, 200, 150]);
  });

  test("a disturbed run is run again instead of counted, up to rerunsIfDisturbed per variant", async () => {
    let n = 0;
    // Runs 1 and 2 are disturbed (and fail); with one rerun allowed the second one counts.
    const state = await runRamps(["a"], { ...OPTS, steps: [100, 200], rerunsIfDisturbed: 1 }, async (_name, rate) => {
      n++;
      return n <= 2 ? { passed: false, disturbed: true } : { passed: rate <= 1000 };
    });
    const runs = state.get("a")!.runs;
    expect(runs.map((r) => [r.rate, r.counted])).toEqual([
      [100, false],
      [100, true],
      [50, true],
      [75, true],
      [88, true],
      [94, true],
    ]);
    expect(state.get("a")!.ramp.bracket).toEqual({ lo: 94, hi: 100 });
  });
});

describe("capacity ratios and verdicts", () => {
  test("the ratio of the passes, with the range the brackets allow", () => {
    expect(capacityRatio({ lo: 300, hi: 320 }, { lo: 200, hi: 210 })).toEqual({ ratio: 1.5, lo: 300 / 210, hi: 320 / 200 });
    expect(capacityRatio({ lo: 800, hi: null }, { lo: 200, hi: 210 })).toEqual({ ratio: 4, lo: 800 / 210, hi: null });
  });

  test("met, missed, or within the bisection's resolution", () => {
    expect(judgeCapacity({ ratio: 1.6, lo: 1.52, hi: 1.7 }, 1.5)).toBe("≥ 1.5x met");
    expect(judgeCapacity({ ratio: 1.2, lo: 1.1, hi: 1.3 }, 1.5)).toBe("≥ 1.5x MISSED");
    expect(judgeCapacity({ ratio: 1.0, lo: 0.93, hi: 1.05 }, 0.95)).toBe("≥ 0.95x within resolution (passes above)");
    expect(judgeCapacity({ ratio: 4, lo: 3.8, hi: null }, 1.5)).toBe("≥ 1.5x met");
  });
});

describe("pass rule of one run", () => {
  const run = (over: Partial<LoadResult>): LoadResult =>
    ({
      rate: 100,
      subscribers: 10,
      lost: 0,
      publishErrors: 0,
      deliveredPerSecond: 1000,
      latencies: Float64Array.from({ length: 100 }, (_, i) => i + 1),
      ...over,
    }) as LoadResult;
  const rule = { maxP99Ms: 100, minOffered: 0.95 };

  test("passes with p99 at the bound, nothing lost, the rate offered", () => {
    expect(judgeStep(run({}), rule)).toEqual({ passed: true, p99Ms: 99, why: "" });
  });

  test("fails on loss, publish errors, p99 over the bound or a publisher that fell behind, and says which", () => {
    expect(judgeStep(run({ lost: 3 }), rule).why).toBe("lost 3");
    expect(judgeStep(run({ publishErrors: 1 }), rule).why).toBe("1 publish errors");
    expect(judgeStep(run({ latencies: Float64Array.from([1, 500]) }), rule).why).toBe("p99 500.0 ms");
    expect(judgeStep(run({ deliveredPerSecond: 900 }), rule).why).toBe("delivered 90% of the offered rate");
    expect(judgeStep(run({ latencies: new Float64Array(0) }), rule).passed).toBe(false);
  });
});
