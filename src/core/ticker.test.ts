import { describe, expect, it } from "bun:test";
import { type Tick, Ticker } from "./ticker.ts";
import { VirtualClock } from "./virtual-clock.ts";

describe("Ticker", () => {
  it("lands every tick on a period boundary with no cumulative drift over 10 000 ticks of random callback delays", () => {
    const clock = new VirtualClock(1_700_000_000_123);
    const ticks: Tick[] = [];
    const ticker = new Ticker({ periodMs: 1000, clock, wakeEarlyMs: 0, onTick: (t) => ticks.push(t) });
    ticker.start();
    // Deterministic pseudo-random delays up to 900 ms: always late, never a full period late.
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    while (ticks.length < 10_000) clock.fireNext(rand() * 900);
    const first = ticks[0]!.at;
    expect(first).toBe(1_700_000_001_000);
    expect(ticks.every((t, i) => t.at === first + i * 1000)).toBe(true);
    expect(ticks.every((t) => t.lateness >= 0 && t.lateness < 1000 && t.deadline === t.at + 1000)).toBe(true);
    expect(ticks.at(-1)!.at - first).toBe(9_999 * 1000);
    expect(ticker.skipped).toBe(0);
  });

  it("skips a tick that comes more than one period late, counts it, and never bursts", () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const ticks: number[] = [];
    const skips: number[] = [];
    const ticker = new Ticker({ periodMs: 1000, clock, wakeEarlyMs: 0, onTick: (t) => ticks.push(t.at), onSkip: (n) => skips.push(n) });
    ticker.start();
    clock.fireNext(0); // tick at +1000
    clock.fireNext(2500); // due at +2000, runs at +4500: +2000 and +3000 are skipped, +4000 ticks
    clock.fireNext(0); // +5000
    expect(ticks.map((t) => t - 1_700_000_000_000)).toEqual([1000, 4000, 5000]);
    expect(skips).toEqual([2]);
    expect(ticker.skipped).toBe(2);
  });

  it("re-arms without ticking when a timer fires early", () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const ticks: number[] = [];
    const ticker = new Ticker({ periodMs: 1000, clock, wakeEarlyMs: 0, onTick: (t) => ticks.push(t.at) });
    ticker.start();
    clock.fireNext(-5); // the runtime woke 5 ms early: no tick yet
    expect(ticks).toEqual([]);
    clock.fireNext(0);
    expect(ticks).toEqual([1_700_000_001_000]);
  });

  it("wakes a millisecond early by default and lands on the boundary with a zero-delay re-arm", () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const ticks: { at: number; lateness: number }[] = [];
    const ticker = new Ticker({ periodMs: 1000, clock, onTick: (t) => ticks.push(t) });
    ticker.start();
    expect(clock.nextDue).toBe(1_700_000_000_999);
    clock.fireNext(0); // 1 ms early: re-armed with delay 0, due at the boundary
    expect(ticks).toEqual([]);
    clock.stall(1);
    clock.fireNext(0);
    expect(ticks.map((t) => [t.at, t.lateness])).toEqual([[1_700_000_001_000, 0]]);
  });

  it("with spinMs, waits out the last stretch before the boundary instead of re-arming", () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const ticks: { at: number; lateness: number }[] = [];
    const ticker = new Ticker({ periodMs: 1000, clock, wakeEarlyMs: 2, spinMs: 2, onTick: (t) => ticks.push(t) });
    ticker.start();
    expect(clock.nextDue).toBe(1_700_000_000_998);
    // Each read of the clock moves it on 0.25 ms, as a spinning loop would see real time pass.
    const now = clock.now.bind(clock);
    clock.now = () => (clock.stall(0.25), now());
    clock.fireNext(0);
    expect(ticks.map((t) => t.at)).toEqual([1_700_000_001_000]);
    expect(ticks[0]!.lateness).toBeLessThan(0.5);
  });

  it("with maxWakeEarlyMs, fanouts on a steady beat that hold the loop delay only the first tick, for as long as they go on", () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const ticks: { at: number; lateness: number }[] = [];
    const ticker = new Ticker({ periodMs: 1000, clock, wakeEarlyMs: 2, maxWakeEarlyMs: 10, spinMs: 10, onTick: (t) => ticks.push(t) });
    // Each clock read moves time on 0.01 ms, as a spinning loop would see real time pass; count
    // the reads made while spinning to know how long each spin lasted.
    const now = clock.now.bind(clock);
    let reads = 0;
    clock.now = () => (reads++, clock.stall(0.01), now());
    // A fanout every 10 ms holds the loop for 8 ms, from 6 ms before each multiple of 10 ms to
    // 2 ms after it (so also around every boundary); timers due meanwhile fire when it ends,
    // other timers 1 ms late.
    let busy = true;
    const run = (until: number) => {
      while (clock.nextDue! < until) {
        const due = clock.nextDue!;
        const beat = Math.round(due / 10) * 10;
        const inTask = busy && due >= beat - 6 && due < beat + 2;
        reads = 0;
        clock.fireNext(inTask ? beat + 2 - due : 1);
        expect(reads * 0.01).toBeLessThanOrEqual(10.5); // never spins much longer than spinMs
      }
    };
    ticker.start();
    run(1_700_000_300_500);
    expect(ticks.length).toBe(300);
    expect(ticks[0]!.lateness).toBeGreaterThan(1); // before the probe had seen the task
    const late = ticks.slice(1).filter((t) => t.lateness > 0.5);
    expect(late).toEqual([]); // 299 ticks in 5 minutes, every one on time
    expect(ticker.wakeEarlyMs).toBeGreaterThanOrEqual(6);
    // The fanouts stop: the probe forgets them after its 5 s window, the ticker its own late
    // wake-up after 60 more; then the margin is the base plus the usual 1 ms.
    busy = false;
    run(1_700_000_362_500);
    expect(ticker.wakeEarlyMs).toBeLessThanOrEqual(3.1);
    expect(ticks.slice(300).every((t) => t.lateness < 0.5)).toBe(true);
    ticker.stop();
    expect(clock.nextDue).toBeUndefined();
  });

  it("with maxWakeEarlyMs, a single stall raises the margin for the delay window only, and never past the cap", () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const ticker = new Ticker({
      periodMs: 1000,
      clock,
      wakeEarlyMs: 2,
      maxWakeEarlyMs: 10,
      spinMs: 10,
      probeMs: 25,
      delayWindowMs: 5000,
      delayMemory: 60,
      onTick: () => {},
    });
    const now = clock.now.bind(clock);
    clock.now = () => (clock.stall(0.01), now()); // a spin sees time pass
    ticker.start();
    clock.fireNext(0); // the probe, on time
    clock.fireNext(30); // one 30 ms stall
    expect(ticker.wakeEarlyMs).toBe(10);
    while (clock.now() < 1_700_000_006_100) clock.fireNext(0);
    expect(ticker.wakeEarlyMs).toBeLessThan(2.1);
    ticker.stop();
  });

  it("without maxWakeEarlyMs, never wakes more than wakeEarlyMs early", () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const ticker = new Ticker({ periodMs: 1000, clock, wakeEarlyMs: 2, onTick: () => {} });
    ticker.start();
    clock.fireNext(30);
    expect(ticker.wakeEarlyMs).toBe(2);
    expect(clock.nextDue).toBe(1_700_000_001_998);
    ticker.stop();
  });

  it("reports lateness and keeps ticking after a callback throws", () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const lateness: number[] = [];
    const errors: unknown[] = [];
    let n = 0;
    const ticker = new Ticker({
      periodMs: 100,
      clock,
      wakeEarlyMs: 0,
      onTick: () => {
        if (++n === 1) throw new Error("boom");
      },
      onLateness: (ms) => lateness.push(ms),
      onError: (e) => errors.push(e),
    });
    ticker.start();
    clock.fireNext(7);
    clock.fireNext(3);
    expect(lateness).toEqual([7, 3]);
    expect(errors.length).toBe(1);
    expect(ticker.ticks).toBe(2);
    ticker.stop();
    expect(clock.nextDue).toBeUndefined();
  });
});
