import { describe, expect, it } from "bun:test";
import { createTimer, currentTime, expire, isDue, modify, pause, resume, type TimerState, toView } from "./timer-state.ts";

const T0 = 1_700_000_000_000;
const timer = (over: Partial<TimerState> = {}): TimerState => ({ id: 7, ...createTimer("s1", 10, T0), ...over });

describe("timer state machine", () => {
  it("creates a running timer at 0 s", () => {
    const t = timer();
    expect(toView(t, T0)).toEqual({
      id: 7,
      sessionId: "s1",
      currentTime: 0,
      maxTime: 10,
      isPaused: false,
      status: "running",
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
    });
  });

  it("derives whole seconds from the clock, without any write", () => {
    const t = timer();
    expect(currentTime(t, T0 + 999)).toBe(0);
    expect(currentTime(t, T0 + 1000)).toBe(1);
    expect(currentTime(t, T0 + 9_999)).toBe(9);
  });

  it("never reports more than maxTime", () => {
    expect(currentTime(timer(), T0 + 60_000)).toBe(10);
  });

  it("pauses by folding the running stretch into the accumulated milliseconds", () => {
    const r = pause(timer(), T0 + 2_500);
    if (r.kind !== "changed") throw new Error(r.kind);
    expect(r.events).toEqual(["TIMER_PAUSE"]);
    expect(r.timer).toMatchObject({ accumulatedMs: 2_500, startedAt: null, status: "paused", version: 2, updatedAt: T0 + 2_500 });
    expect(currentTime(r.timer, T0 + 100_000)).toBe(2);
  });

  it("pausing a paused timer returns it unchanged", () => {
    const paused = timer({ status: "paused", startedAt: null, accumulatedMs: 1_000 });
    expect(pause(paused, T0 + 5_000)).toEqual({ kind: "unchanged", timer: paused });
  });

  it("resumes counting from the accumulated time", () => {
    const paused = timer({ status: "paused", startedAt: null, accumulatedMs: 2_500, version: 2 });
    const r = resume(paused, T0 + 60_000);
    if (r.kind !== "changed") throw new Error(r.kind);
    expect(r.events).toEqual(["TIMER_RESUME"]);
    expect(currentTime(r.timer, T0 + 60_000)).toBe(2);
    expect(currentTime(r.timer, T0 + 61_500)).toBe(4);
  });

  it("resuming a running timer returns it unchanged", () => {
    const t = timer();
    expect(resume(t, T0 + 1)).toEqual({ kind: "unchanged", timer: t });
  });

  it("is due when the elapsed time reaches maxTime, and expires frozen at maxTime", () => {
    const t = timer();
    expect(isDue(t, T0 + 9_999)).toBe(false);
    expect(isDue(t, T0 + 10_000)).toBe(true);
    expect(expire(t, T0 + 9_999).kind).toBe("unchanged");
    const r = expire(t, T0 + 12_345);
    if (r.kind !== "changed") throw new Error(r.kind);
    expect(r.events).toEqual(["TIMER_EXPIRE"]);
    expect(r.timer).toMatchObject({ status: "finished", accumulatedMs: 10_000, startedAt: null, version: 2 });
    expect(toView(r.timer, T0 + 99_999)).toMatchObject({ currentTime: 10, isPaused: true, status: "finished" });
  });

  it("a paused timer is never due", () => {
    expect(isDue(timer({ status: "paused", startedAt: null, accumulatedMs: 10_000 }), T0 + 99_999)).toBe(false);
  });

  it("modify raises or lowers maxTime and keeps counting", () => {
    const r = modify(timer(), 20, T0 + 5_000);
    if (r.kind !== "changed") throw new Error(r.kind);
    expect(r.events).toEqual(["TIMER_MODIFY"]);
    expect(r.timer).toMatchObject({ maxTime: 20, status: "running", version: 2 });
    expect(currentTime(r.timer, T0 + 15_000)).toBe(15);
  });

  it("modify below the current time finishes the timer at once", () => {
    const r = modify(timer(), 3, T0 + 5_000);
    if (r.kind !== "changed") throw new Error(r.kind);
    expect(r.events).toEqual(["TIMER_MODIFY", "TIMER_EXPIRE"]);
    expect(toView(r.timer, T0 + 5_000)).toMatchObject({ currentTime: 3, maxTime: 3, status: "finished" });
  });

  it("modify of a paused timer at exactly its time finishes it", () => {
    const paused = timer({ status: "paused", startedAt: null, accumulatedMs: 4_000 });
    expect(modify(paused, 4, T0).kind === "changed" && modify(paused, 4, T0)).toMatchObject({ timer: { status: "finished" } });
    expect(modify(paused, 5, T0)).toMatchObject({ kind: "changed", timer: { status: "paused", maxTime: 5 } });
  });

  it("a finished timer stays finished: pause, resume and modify conflict", () => {
    const done = timer({ status: "finished", startedAt: null, accumulatedMs: 10_000 });
    for (const r of [pause(done, T0), resume(done, T0), modify(done, 100, T0)]) expect(r.kind).toBe("conflict");
  });
});

describe("cached TIMER_UPDATE JSON", () => {
  it("is byte for byte what JSON.stringify makes of the update body", async () => {
    const { updateFragments } = await import("./timer-service.ts");
    for (const t of [timer(), timer({ sessionId: 'quo"te\\ é\n', status: "paused", startedAt: null, accumulatedMs: 3_000, updatedAt: T0 + 5 })]) {
      const view = toView(t, T0 + 4_200);
      const { updateHead, updateTail } = updateFragments(t, view.createdAt, view.updatedAt);
      expect(updateHead + view.currentTime + updateTail).toBe(JSON.stringify({ type: "TIMER_UPDATE", payload: view }));
    }
  });
});
