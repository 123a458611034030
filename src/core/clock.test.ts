import { describe, expect, it } from "bun:test";
import { wallTime } from "./clock.ts";

/** A monotonic source at `rate` times the wall clock's. */
function sources(rate: number) {
  let real = 0;
  let step = 0;
  return {
    mono: () => 5e3 + real * rate,
    wall: () => Math.floor(1.7e12 + real + step),
    advance: (ms: number) => (real += ms),
    stepWall: (ms: number) => (step += ms),
  };
}

describe("wallTime", () => {
  for (const rate of [1 + 1e-3, 1 - 1e-3]) {
    it(`stays within about a millisecond of the wall clock, never back, monotonic source at ${rate}x`, () => {
      const s = sources(rate);
      const now = wallTime(s.mono, s.wall);
      let previous = now();
      for (let i = 0; i < 200_000; i++) {
        s.advance(0.37);
        const t = now();
        const w = s.wall();
        expect(t >= w && t < w + 1.2).toBe(true);
        expect(t).toBeGreaterThanOrEqual(previous);
        previous = t;
      }
    });
  }

  it("keeps the sub-millisecond steps of the monotonic source", () => {
    const s = sources(1);
    const now = wallTime(s.mono, s.wall);
    s.advance(0.1);
    const a = now();
    s.advance(0.25);
    expect(now() - a).toBeCloseTo(0.25, 6);
  });

  it("jumps to a wall clock stepped forward, slews at half the rate to one stepped back", () => {
    const s = sources(1);
    const now = wallTime(s.mono, s.wall);
    s.advance(10);
    s.stepWall(60_000);
    expect(now() - s.wall()).toBeLessThan(1);
    expect(now()).toBeGreaterThanOrEqual(s.wall());
    s.stepWall(-5_000);
    let previous = now();
    const ahead = previous - s.wall();
    expect(ahead).toBeGreaterThan(4_990);
    // Half the rate: 5 s ahead is caught up in about 10 s.
    for (let i = 0; i < 10_100; i++) {
      s.advance(1);
      const t = now();
      if (t - s.wall() >= 1) expect(t - previous).toBeCloseTo(0.5, 6);
      else expect(t - previous).toBeGreaterThan(0);
      previous = t;
    }
    expect(now() - s.wall()).toBeLessThan(1);
    expect(now()).toBeGreaterThanOrEqual(s.wall());
  });
});
