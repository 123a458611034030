/**
 * The timers of this instance: an in-memory map kept in step with the database (the source of
 * truth), the hot state (Redis hashes when shared) and the `timers` topic log. Every change is the
 * pure transition (`timer-state.ts`), then ONE transaction with the conditional write (`WHERE id
 * = ? AND version = ?`) and the change's outbox events (`change-records.ts`), then the hot state;
 * the outbox publisher (`timer-events.ts`) moves the events to `timers`. A write that loses a race
 * reloads the row and retries, so a timer expires exactly once however many instances tick it,
 * and no committed change misses its event. Changes to one timer are serialized within the
 * instance (`keyed-serial.ts`). Every instance follows `timers` ({@link TimerService.applyEntry}):
 * an event newer than the version it holds makes it read the timer again, so every instance
 * converges to the database. Also here: the map (`timer-map.ts`), the tick (`timer-tick.ts`), the
 * load (`timer-load.ts`), `store-guard.ts`, `uncertain-timers.ts`. Creates are limited per session
 * and in all, counted by the store (`timer-limits.ts`).
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import type { Hub } from "../../core/hub.ts";
import type { Tick } from "../../core/ticker.ts";
import type { LogEntry } from "../../core/topic-log.ts";
import { conflict, unavailable } from "../../http/errors.ts";
import type { Logger } from "../../log.ts";
import { type Idempotency, idempotentAnswer, outboxEvents } from "./change-records.ts";
import { type HotState, inProcessHotState } from "./hot-state.ts";
import { HotWrites } from "./hot-writes.ts";
import { KeyedSerial } from "./keyed-serial.ts";
import { guardStore } from "./store-guard.ts";
import type { TimerLimits } from "./timer-limits.ts";
import { loadTimers } from "./timer-load.ts";
import { confirmUnchanged, findTimer, type Lookup } from "./timer-lookup.ts";
import { TimerMap } from "./timer-map.ts";
import type { TimerServiceOptions } from "./timer-service-options.ts";
import type { TimerState, TimerView, Transition } from "./timer-state.ts";
import * as machine from "./timer-state.ts";
import type { TimerStore } from "./timer-store.ts";
import { tickTimers } from "./timer-tick.ts";
import { UncertainTimers } from "./uncertain-timers.ts";

export { TIMERS_TOPIC } from "./timer-events.ts";
export { updateFragments } from "./timer-map.ts";

/** A write losing this many races in a row gives up with 503 rather than spin. */
const MAX_ATTEMPTS = 5;

export type { Idempotency } from "./change-records.ts";
export type { TimerServiceOptions } from "./timer-service-options.ts";

export class TimerService {
  readonly #store: TimerStore;
  readonly #hub: Hub;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #committed: () => void;
  readonly #instance: string;
  readonly #limits: TimerLimits | undefined;
  /** Hot-state writes, and those that failed, redone when their event comes back (`hot-writes.ts`). */
  readonly #hot: HotWrites;
  readonly #timers: TimerMap;
  /** Changes to one timer id run one after another (a change or expiry: {@link #inTurn}). */
  readonly #serial: KeyedSerial<number>;
  readonly #turnWaitMs: number;
  /** Timers whose last write had an unknown outcome, read again on every tick until settled. */
  readonly #uncertain: UncertainTimers;

  constructor(opts: TimerServiceOptions) {
    this.#store = opts.store;
    this.#hot = new HotWrites(opts.hot ?? inProcessHotState, opts.log);
    this.#hub = opts.hub;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#instance = opts.instance;
    this.#limits = opts.limits;
    this.#committed = opts.onCommitted ?? (() => {});
    this.#timers = opts.timers ?? new TimerMap();
    this.#serial = new KeyedSerial(opts.clock);
    this.#turnWaitMs = opts.turnWaitMs ?? 5000;
    this.#uncertain = new UncertainTimers(this.#timers, (id) => this.#serial.run(id, () => this.#reload(id)));
  }

  /** Switches to shared hot state (Redis), connected at start; call before {@link load}. */
  useHotState(hot: HotState): void {
    this.#hot.hot = hot;
  }

  /**
   * Loads every timer: the hot state first (when shared), then the database, which wins by
   * version and drops timers it no longer has. Running timers kept counting while the process
   * was down (their time derives from the wall clock); the first tick expires those past due.
   */
  load(): Promise<{ source: string; count: number }> {
    return loadTimers({ store: this.#store, hot: this.#hot.hot, timers: this.#timers, log: this.#log, saveHot: (t) => this.#hot.save(t) });
  }

  /** The answer stored for an `Idempotency-Key`, if a change made with it committed. */
  answer(scope: string, key: string) {
    return guardStore(() => this.#store.answer(scope, key));
  }

  async create(sessionId: string, maxTime: number, idem?: Idempotency): Promise<TimerView> {
    const now = this.#now();
    const draft = machine.createTimer(sessionId, maxTime, now);
    const t = await guardStore(() =>
      this.#store.insert(draft, (row) => outboxEvents(["TIMER_CREATE"], row, this.#instance, this.#clock.now()), idempotentAnswer(idem, now), this.#limits),
    );
    this.#timers.adopt(t);
    await this.#hot.save(t);
    this.#committed();
    // Rendered at the instant its stored answer was: a replay returns this very body.
    return this.#timers.view(t, now);
  }

  /** The timer, reading hot state or the database when another instance created it just now. */
  async get(id: number): Promise<TimerView> {
    return this.#view(await findTimer(this.#lookup(), id));
  }

  /** The timers (of `sessionId`, or all) by id, and their views as of one instant, rendered on demand. */
  list(sessionId?: string): { states: TimerState[]; view: (t: TimerState) => TimerView } {
    const states = [...this.#timers.entries()].filter((e) => sessionId === undefined || e.state.sessionId === sessionId).map((e) => e.state);
    const now = this.#clock.now();
    return { states: states.sort((a, b) => a.id - b.id), view: (t) => this.#timers.view(t, now) };
  }

  pause(id: number, idem?: Idempotency): Promise<TimerView> {
    return this.#change(id, (t, now) => machine.pause(t, now), idem);
  }

  resume(id: number, idem?: Idempotency): Promise<TimerView> {
    return this.#change(id, (t, now) => machine.resume(t, now), idem);
  }

  modify(id: number, maxTime: number, idem?: Idempotency): Promise<TimerView> {
    return this.#change(id, (t, now) => machine.modify(t, maxTime, now), idem);
  }

  /** Deletes the timer; returns its last state (the `TIMER_STOP` payload). */
  async stop(id: number, idem?: Idempotency): Promise<TimerView> {
    let removed: Promise<void> | undefined;
    const view = await this.#inTurn(id, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const t = await findTimer(this.#lookup(), id);
        const view = this.#view(t);
        const gone = { ...t, version: t.version + 1 };
        const events = outboxEvents(["TIMER_STOP"], gone, this.#instance, this.#clock.now(), view);
        const answer = idempotentAnswer(idem, this.#clock.now(), view);
        const deleted = await guardStore(
          () => this.#store.delete(gone, t.version, events, answer),
          () => this.#uncertain.mark(id),
        );
        if (!deleted) {
          await this.#reload(id);
          continue;
        }
        this.#timers.delete(id);
        removed = this.#hot.remove(id); // never throws; awaited outside the turn, as a change's save
        this.#committed();
        return view;
      }
      throw unavailable(`timer ${id} is being changed concurrently; retry`);
    });
    await removed;
    return view;
  }

  /**
   * Once per tick: one ephemeral `TIMER_UPDATE` per running timer, and the expiry of those that
   * reached `maxTime` (a last update at `maxTime`, then a conditional write and `TIMER_EXPIRE`).
   */
  tick(tick: Tick): void {
    tickTimers(this.#timers, this.#hub, tick, (id) => this.#expire(id));
    this.#uncertain.settle();
  }

  /**
   * Follows a durable entry on `timers` (ours or another instance's). An event at or below the
   * version this instance holds is already applied (its own changes, mostly); a newer one makes
   * it read the timer again, so that it ticks and expires timers changed elsewhere and picks up
   * changes whose commit it could not see (an unknown outcome that committed later).
   */
  applyEntry(entry: LogEntry): void {
    const { type, version } = entry.body as { type?: unknown; version?: unknown };
    const id = (entry.body.payload as { id?: unknown } | undefined)?.id;
    if (typeof id !== "number" || typeof version !== "number") return;
    const held = this.#timers.state(id);
    if (held && held.version >= version) {
      this.#hot.resave(held);
      return;
    }
    this.#serial
      .run(id, async () => {
        // Also for a timer not held: the stopping instance's remove may have failed (Redis was
        // down), and a stale hash would bring the timer back. Removing twice is harmless.
        if (type === "TIMER_STOP") {
          this.#timers.delete(id);
          await this.#hot.remove(id);
          return;
        }
        const current = this.#timers.state(id);
        if (current && current.version >= version) return;
        const hot = this.#hot.hot.shared ? await this.#hot.hot.get(id).catch(() => undefined) : undefined;
        const t = hot && hot.version >= version ? hot : await this.#store.get(id);
        if (!t) return;
        this.#timers.adopt(t);
        // The hot state lagged (its write failed during a Redis outage): bring it up to date.
        if (this.#hot.hot.shared && t !== hot) await this.#hot.save(t);
      })
      .catch((error: unknown) => this.#log.warn({ err: String(error), id, type }, "timers: could not refresh a timer changed elsewhere"));
  }

  async #expire(id: number): Promise<void> {
    try {
      await this.#inTurn(id, async () => {
        const t = this.#timers.state(id);
        if (!t) return;
        const tr = machine.expire(t, this.#now());
        if (tr.kind === "changed" && !(await this.#commit(t, tr))) await this.#reload(id);
      });
    } catch (error) {
      this.#log.warn({ err: String(error), id }, "timers: expiry write failed; retrying on the next tick");
    }
  }

  async #change(id: number, op: (t: TimerState, now: number) => Transition, idem?: Idempotency): Promise<TimerView> {
    const hot: Promise<void>[] = [];
    const view = await this.#inTurn(id, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        let t = await findTimer(this.#lookup(), id);
        const now = this.#now();
        // A timer past due finishes first, exactly as the tick would have done.
        const expiry = machine.expire(t, now);
        if (expiry.kind === "changed") {
          if (!(await this.#commit(t, expiry, undefined, now, hot))) {
            await this.#reload(id);
            continue;
          }
          t = expiry.timer;
        }
        const tr = op(t, now);
        if (tr.kind === "conflict") throw conflict(tr.message);
        // Nothing to write: answered once the database confirms this copy is current, a keyed answer stored with that read (else again, from its row).
        if (tr.kind === "unchanged" && (await confirmUnchanged(this.#lookup(), t, idempotentAnswer(idem, now)))) return this.#timers.view(t, now);
        if (tr.kind === "unchanged") continue;
        if (await this.#commit(t, tr, idem, now, hot)) return this.#timers.view(tr.timer, now);
        await this.#reload(id);
      }
      throw unavailable(`timer ${id} is being changed concurrently; retry`);
    });
    await Promise.all(hot); // outside the turn: a stalled Redis must not hold the next change past its wait
    return view;
  }

  /**
   * Writes a transition and its events conditionally, in one transaction; on success updates
   * map and hot state and kicks the publisher. An unknown outcome takes the timer out of the map
   * until the database answers for it (`uncertain-timers.ts`). A keyed answer is rendered `at`
   * the instant the caller renders its response at, so that a replay returns the same body. The
   * hot-state write goes into `hot`, for the caller to await outside the turn.
   */
  async #commit(prev: TimerState, tr: Extract<Transition, { kind: "changed" }>, idem?: Idempotency, at = this.#now(), hot?: Promise<void>[]): Promise<boolean> {
    const events = outboxEvents(tr.events, tr.timer, this.#instance, this.#clock.now());
    const written = await guardStore(
      () => this.#store.update(tr.timer, prev.version, events, idempotentAnswer(idem, at)),
      () => this.#uncertain.mark(prev.id),
    );
    if (!written) return false;
    this.#timers.adopt(tr.timer);
    const saved = this.#hot.save(tr.timer); // never throws; saves apply only if newer, in any order
    hot?.push(saved);
    this.#committed();
    return true;
  }

  /** Runs a change (or expiry) of `id` in its turn; one not started `turnWaitMs` after it came is refused (503), and skipped. */
  #inTurn<T>(id: number, fn: () => Promise<T>): Promise<T> {
    const late = () => unavailable(`timer ${id} waited ${this.#turnWaitMs} ms behind its other changes; nothing changed, retry`, 2);
    return this.#serial.run(id, fn, { ms: this.#turnWaitMs, late });
  }

  /** What `findTimer` and `confirmUnchanged` read (`timer-lookup.ts`: which copy an answer rests on). */
  #lookup(): Lookup {
    const untrusted = { has: (id: number) => this.#uncertain.has(id) || this.#hot.removing(id) };
    return { store: this.#store, hot: this.#hot.hot, timers: this.#timers, uncertain: untrusted };
  }

  async #reload(id: number): Promise<void> {
    const t = await guardStore(() => this.#store.get(id));
    if (t) this.#timers.adopt(t, true);
    else this.#timers.delete(id);
  }

  /** Whole ms for stored instants: a fraction would make an answer differ from its replay. */
  #now(): number {
    return Math.floor(this.#clock.now());
  }

  #view(t: TimerState): TimerView {
    return this.#timers.view(t, this.#clock.now());
  }
}
