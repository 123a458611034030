/**
 * The current state of a socket's timers, sent when a customer or game master connects without
 * `since`: one `TIMER_UPDATE` frame per timer, then live frames, with no gap and no duplicate.
 *
 * "Current" means as of the last `timers` entry this instance's hub has delivered, not the map's
 * newest state: a change committed here is in the map at once but reaches the log (and so the
 * live sockets) a moment later, through the outbox. A snapshot taken from the map would show that
 * change, and its live frame would then show it a second time; one taken from the delivered
 * position shows it once, as the live frame that follows. Snapshot and subscription happen in one
 * synchronous step (hub delivery is synchronous too), so no entry falls between them.
 *
 * The state as of an entry is the map's when the map held exactly that version when the entry
 * was delivered, or holds it now (both the usual case: exact). Otherwise (the map was behind,
 * refreshing a change made on another instance, or ahead) it is rebuilt from the entry's payload,
 * exact for paused and finished timers and under a second behind for running ones (the payload
 * says whole seconds), which the next tick corrects.
 *
 * Snapshot frames are ephemeral frames after the delivered position, `<position>.<k>` with
 * `k` = 1, 2, …: they sort before every later frame on the topic (live ticks after the same
 * position carry far larger counters), and resuming from one replays exactly the entries after
 * the position the snapshot reflects.
 * @module
 */
import { frameFromBodyJson } from "../../core/frame.ts";
import type { Hub } from "../../core/hub.ts";
import { ephemeralAfter } from "../../core/seq.ts";
import type { LogEntry } from "../../core/topic-log.ts";
import { TIMERS_TOPIC } from "./timer-events.ts";
import type { TimerMap } from "./timer-map.ts";
import { stateFromPayload } from "./timer-payload.ts";
import type { TimerState } from "./timer-state.ts";

/** Each timer's state as of the newest `timers` entry this instance delivered. */
export class DeliveredTimers {
  readonly #map: TimerMap;
  readonly #delivered = new Map<number, TimerState>();
  /** Timer ids by session: a customer's snapshot reads its session's timers, not every timer. */
  readonly #bySession = new Map<string, Set<number>>();

  constructor(map: TimerMap) {
    this.#map = map;
  }

  /** Timers known as delivered. */
  get size(): number {
    return this.#delivered.size;
  }

  /**
   * After the load at start: every timer loaded counts as delivered at its version (its events
   * went out before this process's tail started, or come next and are then applied here).
   */
  seed(): void {
    for (const e of this.#map.entries()) this.#set(e.state);
  }

  /** Follows one delivered entry of `timers` (a hub tap: called during delivery, in log order). */
  apply(entry: LogEntry): void {
    const { type, version, payload } = entry.body as { type?: unknown; version?: unknown; payload?: unknown };
    const id = (payload as { id?: unknown } | undefined)?.id;
    if (typeof id !== "number" || typeof version !== "number") return;
    if (type === "TIMER_STOP") return this.#delete(id);
    const held = this.#map.state(id);
    const state = held?.version === version ? held : stateFromPayload(payload, version);
    if (state) this.#set(state);
  }

  /** The delivered state of every timer (of `sessionId` only, when given), by id. */
  states(sessionId?: string): TimerState[] {
    const ids = sessionId === undefined ? this.#delivered.keys() : (this.#bySession.get(sessionId) ?? []);
    const out: TimerState[] = [];
    for (const id of ids) {
      const d = this.#delivered.get(id)!;
      // The map caught up with this version since (a refresh finished): its state is exact.
      const held = this.#map.state(id);
      out.push(held?.version === d.version ? held : d);
    }
    return out.sort((a, b) => a.id - b.id);
  }

  #set(t: TimerState): void {
    this.#delivered.set(t.id, t);
    let ids = this.#bySession.get(t.sessionId);
    if (!ids) this.#bySession.set(t.sessionId, (ids = new Set()));
    ids.add(t.id);
  }

  #delete(id: number): void {
    const t = this.#delivered.get(id);
    if (!t) return;
    this.#delivered.delete(id);
    const ids = this.#bySession.get(t.sessionId);
    ids?.delete(id);
    if (ids?.size === 0) this.#bySession.delete(t.sessionId);
  }
}

/** Where a snapshot taken now stands: the newest `timers` entry delivered here (`0-0` before any). */
export function snapshotPosition(hub: Hub): SnapshotPosition {
  return hub.position(TIMERS_TOPIC) ?? { seq: "0-0" };
}

export interface SnapshotPosition {
  seq: string;
  epoch?: string;
}

/**
 * The snapshot frames of `states` on `topic` at `now`, one `TIMER_UPDATE` each, in order, after
 * `position`; `first`: how many frames of the same snapshot went before (a snapshot sent in parts).
 */
export function snapshotFrames(map: TimerMap, topic: string, states: readonly TimerState[], now: number, position: SnapshotPosition, first = 0): string[] {
  const { seq, epoch } = position;
  const ts = Math.floor(now);
  return states.map((t, i) => {
    const body = `{"type":"TIMER_UPDATE","payload":${JSON.stringify(map.view(t, now))}}`;
    return frameFromBodyJson(topic, ephemeralAfter(seq, first + i + 1), ts, body, epoch);
  });
}
