import { describe, expect, it } from "bun:test";
import { compareSeq, ephemeralSeq, isSeq, parseSeq, SeqGenerator } from "./seq.ts";

describe("seq", () => {
  it("orders by milliseconds, then by counter, numerically", () => {
    expect(compareSeq("10-2", "9-5")).toBeGreaterThan(0);
    expect(compareSeq("10-2", "10-10")).toBeLessThan(0);
    expect(compareSeq("10-0", "10")).toBe(0);
    expect(compareSeq(ephemeralSeq(2000.7), "2000-1")).toBeLessThan(0);
  });

  it("never gives a durable entry the seq of the ephemeral event of a tick in the same millisecond", () => {
    const gen = new SeqGenerator();
    const tickSeq = ephemeralSeq(5000);
    const durable = gen.next(5000.3);
    expect(durable).not.toBe(tickSeq);
    expect(compareSeq(durable, tickSeq)).toBeGreaterThan(0);
  });

  it("orders an ephemeral frame's seq after its durable position and before the next entry", () => {
    expect(compareSeq("10-2.5", "10-2")).toBeGreaterThan(0);
    expect(compareSeq("10-2.5", "10-2.6")).toBeLessThan(0);
    expect(compareSeq("10-2.99", "10-3")).toBeLessThan(0);
    expect(parseSeq("10-2.5")).toEqual({ ms: 10, n: 2, k: 5 });
  });

  it("parses only the <ms>-<n> and <ms>-<n>.<k> forms", () => {
    expect(parseSeq("1700000000000-3")).toEqual({ ms: 1_700_000_000_000, n: 3 });
    expect(isSeq("abc")).toBe(false);
    expect(isSeq("1-2-3")).toBe(false);
    expect(isSeq(42)).toBe(false);
  });

  it("generates strictly increasing seqs even when the clock stands still or goes back", () => {
    const gen = new SeqGenerator();
    const seqs = [gen.next(1000), gen.next(1000), gen.next(999), gen.next(1001.5), gen.next(1001)];
    expect(seqs).toEqual(["1000-1", "1000-2", "1000-3", "1001-1", "1001-2"]);
  });
});
