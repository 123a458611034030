import { describe, expect, test } from "bun:test";
import { bootstrapMedianCI, judgeRatio, median, verdictCell } from "../bench/support/report.ts";

describe("bench report statistics", () => {
  test("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  test("bootstrap interval brackets the median, is reproducible and narrows with more rounds", () => {
    const rounds = [0.9, 1.2, 1.0, 1.4, 0.8, 1.1, 1.05, 0.95, 1.3, 1.0];
    const ci = bootstrapMedianCI([rounds]);
    expect(ci.lo).toBeLessThanOrEqual(median(rounds));
    expect(ci.hi).toBeGreaterThanOrEqual(median(rounds));
    expect(bootstrapMedianCI([rounds])).toEqual(ci);
    const tripled = bootstrapMedianCI([[...rounds, ...rounds, ...rounds]]);
    expect(tripled.hi - tripled.lo).toBeLessThan(ci.hi - ci.lo);
  });

  test("pooled runs keep the spread between runs in the interval", () => {
    const runA = [0.97, 0.98, 0.99, 1.0, 1.01, 0.99, 0.98, 1.0, 0.99, 1.0];
    const runB = runA.map((x) => x + 0.04);
    const asOneRun = bootstrapMedianCI([[...runA, ...runB]]);
    const asTwoRuns = bootstrapMedianCI([runA, runB]);
    expect(asTwoRuns.hi - asTwoRuns.lo).toBeGreaterThan(asOneRun.hi - asOneRun.lo);
    expect(asTwoRuns.lo).toBeLessThanOrEqual(median(runA));
    expect(asTwoRuns.hi).toBeGreaterThanOrEqual(median(runB));
  });

  test("a target is met or missed only when the whole interval is on one side", () => {
    expect(judgeRatio([[0.8, 0.85, 0.9, 0.82, 0.88]], 1.1).verdict).toBe("met");
    expect(judgeRatio([[1.5, 1.6, 1.4, 1.55, 1.45]], 1.1).verdict).toBe("missed");
    const noisy = judgeRatio([[0.7, 1.5, 1.0, 1.3, 0.9, 1.2]], 1.1);
    expect(noisy.verdict).toBe("within noise");
    expect(verdictCell(noisy, 1.1)).toBe(`≤ 1.1x within noise (median ${noisy.medianMet ? "below" : "above"})`);
  });

  test("too few rounds, or a round without a ratio, give no verdict", () => {
    expect(judgeRatio([[1.05]], 1.1).verdict).toBe("within noise");
    expect(judgeRatio([[0.8, 0.85, 0.9, 0.82]], 1.1).verdict).toBe("within noise");
    const withNaN = judgeRatio([[0.8, 0.85, 0.9, 0.82, 0.88, NaN]], 1.1);
    expect(withNaN.verdict).toBe("within noise");
    expect(withNaN.invalidRounds).toBe(1);
    expect(withNaN.rounds).toBe(5);
    expect(withNaN.median).toBeCloseTo(0.85);
  });
});
