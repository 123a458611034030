import { describe, expect, it } from "bun:test";
import type { LogEntry } from "../../core/topic-log.ts";
import { TimerMap } from "./timer-map.ts";
import { stateFromPayload } from "./timer-payload.ts";
import { DeliveredTimers } from "./timer-snapshot.ts";
import { createTimer, pause, resume, type TimerEventType, type TimerState, toView } from "./timer-state.ts";

const T0 = 1_700_000_000_000;
const timer = (id: number, sessionId = "s1"): TimerState => ({ id, ...createTimer(sessionId, 600, T0) });

/** The `timers` entry a change leaving `t` produces (its payload is the view at `at`). */
function entry(type: TimerEventType, t: TimerState, at: number): LogEntry {
  const body = { type, payload: toView(t, at), eventId: `e-${t.id}-${t.version}`, version: t.version };
  return { topic: "timers", seq: `${at}-1`, ts: at, json: JSON.stringify(body), body };
}

const changed = (tr: ReturnType<typeof pause>): TimerState => {
  if (tr.kind !== "changed") throw new Error(`expected a change, got ${tr.kind}`);
  return tr.timer;
};

describe("delivered timer states (the snapshot's source)", () => {
  it("starts from the loaded timers and keeps the map's own state object when versions match", () => {
    const map = new TimerMap();
    const a = timer(1);
    map.adopt(a);
    const delivered = new DeliveredTimers(map);
    delivered.seed();
    expect(delivered.states()).toEqual([a]);
    expect(delivered.states()[0]).toBe(a);
  });

  it("stays at the delivered version while the map is ahead (a change committed here, not yet in the log)", () => {
    const map = new TimerMap();
    const a = timer(1);
    map.adopt(a);
    const delivered = new DeliveredTimers(map);
    delivered.seed();
    const paused = changed(pause(a, T0 + 5_000));
    map.adopt(paused);
    expect(delivered.states()).toEqual([a]);
    delivered.apply(entry("TIMER_PAUSE", paused, T0 + 5_000));
    expect(delivered.states()).toEqual([paused]);
  });

  it("rebuilds the state from the payload while the map is behind, and uses the map's once it caught up", () => {
    const map = new TimerMap();
    const a = timer(1);
    map.adopt(a);
    const delivered = new DeliveredTimers(map);
    delivered.seed();
    const paused = changed(pause(a, T0 + 5_500));
    delivered.apply(entry("TIMER_PAUSE", paused, T0 + 5_500));
    const [rebuilt] = delivered.states();
    // Paused: exact but for the fraction of a second the view does not carry.
    expect(toView(rebuilt!, T0 + 60_000)).toEqual(toView(paused, T0 + 60_000));
    expect(rebuilt).not.toBe(paused);
    map.adopt(paused);
    expect(delivered.states()[0]).toBe(paused);
  });

  it("includes a timer created elsewhere once its TIMER_CREATE is delivered, and drops it at TIMER_STOP", () => {
    const map = new TimerMap();
    const delivered = new DeliveredTimers(map);
    const b = timer(2, "s2");
    map.adopt(b);
    expect(delivered.states()).toEqual([]);
    delivered.apply(entry("TIMER_CREATE", b, T0));
    expect(delivered.states("s2")).toEqual([b]);
    expect(delivered.states("s1")).toEqual([]);
    delivered.apply(entry("TIMER_STOP", { ...b, version: b.version + 1 }, T0 + 1_000));
    expect(delivered.states()).toEqual([]);
    expect(delivered.size).toBe(0);
  });

  it("orders by id and ignores entries without an id and a version", () => {
    const map = new TimerMap();
    const delivered = new DeliveredTimers(map);
    for (const id of [3, 1, 2]) delivered.apply(entry("TIMER_CREATE", timer(id), T0));
    delivered.apply({ topic: "timers", seq: "1-1", ts: 1, json: "{}", body: { type: "TIMER_CREATE", payload: { id: 9 } } });
    expect(delivered.states().map((t) => t.id)).toEqual([1, 2, 3]);
  });
});

describe("a timer's state from an event payload", () => {
  it("keeps counting a running timer from the change's instant, under a second behind at worst", () => {
    const a = timer(1);
    const paused = changed(pause(a, T0 + 2_700));
    const running = changed(resume(paused, T0 + 10_000));
    const rebuilt = stateFromPayload(toView(running, T0 + 10_000), running.version)!;
    for (const at of [T0 + 10_000, T0 + 10_400, T0 + 13_300, T0 + 70_000]) {
      const exact = toView(running, at).currentTime;
      expect(exact - toView(rebuilt, at).currentTime).toBeOneOf([0, 1]);
    }
    expect(toView(rebuilt, T0 + 20_000)).toMatchObject({ status: "running", isPaused: false, updatedAt: new Date(T0 + 10_000).toISOString() });
  });

  it("refuses a malformed payload", () => {
    expect(stateFromPayload({ id: 1, sessionId: "s", currentTime: 0, maxTime: 5, status: "gone", createdAt: "x", updatedAt: "y" }, 1)).toBeUndefined();
    expect(stateFromPayload(undefined, 1)).toBeUndefined();
  });
});
