/**
 * A timer's state from the payload of one of its events (a timer view): what a socket's snapshot
 * shows when this instance's map is not at that event's version (`timer-snapshot.ts`).
 * @module
 */
import type { TimerState, TimerStatus } from "./timer-state.ts";

const STATUSES: readonly string[] = ["running", "paused", "finished"] satisfies TimerStatus[];

/**
 * A timer's state rebuilt from an event payload (a timer view): exact but for the fraction of a
 * second a running timer had counted, which the view does not say. `undefined` if malformed.
 */
export function stateFromPayload(payload: unknown, version: number): TimerState | undefined {
  if (typeof payload !== "object" || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  const { id, sessionId, currentTime, maxTime, status } = p;
  const createdAt = typeof p.createdAt === "string" ? Date.parse(p.createdAt) : Number.NaN;
  const updatedAt = typeof p.updatedAt === "string" ? Date.parse(p.updatedAt) : Number.NaN;
  if (typeof id !== "number" || typeof sessionId !== "string" || typeof currentTime !== "number" || typeof maxTime !== "number") return undefined;
  if (typeof status !== "string" || !STATUSES.includes(status) || Number.isNaN(createdAt) || Number.isNaN(updatedAt)) return undefined;
  // A change to a running timer happens at `updatedAt`, when the view counted `currentTime`.
  const running = status === "running";
  return {
    id,
    sessionId,
    accumulatedMs: currentTime * 1000,
    startedAt: running ? updatedAt : null,
    maxTime,
    status: status as TimerStatus,
    version,
    createdAt,
    updatedAt,
  };
}
