/**
 * The timer state machine, pure: no I/O, time passed in. A timer counts up in whole seconds
 * while running and finishes at `maxTime`. Its time is derived, never incremented:
 * `accumulatedMs` (counted before the last start) plus `now - startedAt` while running.
 *
 *   create ─▶ running ⇄ paused        running/paused ─(time reaches maxTime, or modify below it)─▶ finished
 *
 * Pause and resume are idempotent (pausing a paused timer is `unchanged`). A finished timer stays
 * until stopped: pause, resume and modify on it are conflicts. Every change bumps `version`, which
 * stores use to make writes conditional across instances.
 * @module
 */

export type TimerStatus = "running" | "paused" | "finished";

/** A timer as stored (database row, Redis hash, in-memory map). */
export interface TimerState {
  id: number;
  sessionId: string;
  /** Milliseconds counted before `startedAt`; all of them when not running. */
  accumulatedMs: number;
  /** Epoch ms the timer last started running; null while paused or finished. */
  startedAt: number | null;
  /** Seconds at which it finishes. */
  maxTime: number;
  status: TimerStatus;
  /** Bumped by every change; writes are conditional on it. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** A timer as clients see it (REST bodies, event payloads, seed field names). */
export interface TimerView {
  id: number;
  sessionId: string;
  /** Whole seconds elapsed, never above `maxTime`. */
  currentTime: number;
  maxTime: number;
  /** True while the timer is not counting (paused or finished); `status` tells which. */
  isPaused: boolean;
  status: TimerStatus;
  createdAt: string;
  updatedAt: string;
}

/** Durable event types; `TIMER_UPDATE` is the ephemeral per-tick one. */
export type TimerEventType = "TIMER_CREATE" | "TIMER_PAUSE" | "TIMER_RESUME" | "TIMER_MODIFY" | "TIMER_STOP" | "TIMER_EXPIRE";

/** What an operation does to a timer. */
export type Transition =
  | { kind: "changed"; timer: TimerState; events: TimerEventType[] }
  | { kind: "unchanged"; timer: TimerState }
  | { kind: "conflict"; message: string };

/** Milliseconds counted at `now`, not capped. */
export function elapsedMs(t: TimerState, now: number): number {
  return t.accumulatedMs + (t.status === "running" && t.startedAt !== null ? Math.max(0, now - t.startedAt) : 0);
}

/** Whole seconds elapsed at `now`, capped at `maxTime`. */
export function currentTime(t: TimerState, now: number): number {
  return Math.min(t.maxTime, Math.floor(elapsedMs(t, now) / 1000));
}

/** Whether a running timer has reached its `maxTime` and must finish. */
export function isDue(t: TimerState, now: number): boolean {
  return t.status === "running" && elapsedMs(t, now) >= t.maxTime * 1000;
}

export function toView(t: TimerState, now: number): TimerView {
  return {
    id: t.id,
    sessionId: t.sessionId,
    currentTime: currentTime(t, now),
    maxTime: t.maxTime,
    isPaused: t.status !== "running",
    status: t.status,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
}

/** A new running timer; the store assigns `id`. */
export function createTimer(sessionId: string, maxTime: number, now: number): Omit<TimerState, "id"> {
  return { sessionId, accumulatedMs: 0, startedAt: now, maxTime, status: "running", version: 1, createdAt: now, updatedAt: now };
}

/** Finishes `t` with its time frozen at `maxTime`. */
function finished(t: TimerState, now: number, maxTime = t.maxTime): TimerState {
  return { ...t, maxTime, accumulatedMs: maxTime * 1000, startedAt: null, status: "finished", version: t.version + 1, updatedAt: now };
}

/** The expiry of a due timer (detected on the tick, or before any operation on it). */
export function expire(t: TimerState, now: number): Transition {
  if (!isDue(t, now)) return { kind: "unchanged", timer: t };
  return { kind: "changed", timer: finished(t, now), events: ["TIMER_EXPIRE"] };
}

const finishedConflict = (t: TimerState, op: string): Transition => ({
  kind: "conflict",
  message: `timer ${t.id} is finished; it cannot ${op} (stop it, or create a new one)`,
});

export function pause(t: TimerState, now: number): Transition {
  if (t.status === "finished") return finishedConflict(t, "be paused");
  if (t.status === "paused") return { kind: "unchanged", timer: t };
  return {
    kind: "changed",
    timer: { ...t, accumulatedMs: elapsedMs(t, now), startedAt: null, status: "paused", version: t.version + 1, updatedAt: now },
    events: ["TIMER_PAUSE"],
  };
}

export function resume(t: TimerState, now: number): Transition {
  if (t.status === "finished") return finishedConflict(t, "be resumed");
  if (t.status === "running") return { kind: "unchanged", timer: t };
  return {
    kind: "changed",
    timer: { ...t, startedAt: now, status: "running", version: t.version + 1, updatedAt: now },
    events: ["TIMER_RESUME"],
  };
}

/** Sets `maxTime`; at or below the time already counted, the timer finishes at once. */
export function modify(t: TimerState, maxTime: number, now: number): Transition {
  if (t.status === "finished") return finishedConflict(t, "be modified");
  if (elapsedMs(t, now) >= maxTime * 1000) {
    return { kind: "changed", timer: finished(t, now, maxTime), events: ["TIMER_MODIFY", "TIMER_EXPIRE"] };
  }
  return { kind: "changed", timer: { ...t, maxTime, version: t.version + 1, updatedAt: now }, events: ["TIMER_MODIFY"] };
}
