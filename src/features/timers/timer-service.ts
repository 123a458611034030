/**
 * The timers of this instance: an in-memory map kept in step with the database (the source of
 * truth), the hot state (Redis hashes when shared) and the `timers` topic log.
 *
 * Every change runs the same path: the pure transition (`timer-state.ts`), a conditional write
 * to the database (`WHERE id = ? AND version = ?`), the hot state, then one durable append per
 * event on `timers` (the hub derives `timer:<id>` and `session:<sessionId>` from it). A write
 * that loses a race (another instance or a concurrent request changed the row) reloads the row
 * and retries the operation; so a timer expires exactly once however many instances tick it.
 *
 * Changes to one timer are serialized within the instance, so its events are appended in the
 * order they were committed. Other instances' changes arrive through {@link TimerService.applyEntry}
 * (a tap on `timers`) and are read back from the hot state.
 *
 * The parts live next to it: the map and its cached JSON (`timer-map.ts`), the per-tick loop
 * (`timer-tick.ts`), the per-timer chain of changes (`keyed-serial.ts`), the appends on `timers`
 * (`timer-events.ts`), the start-up load (`timer-load.ts`) and the 503 guard (`store-guard.ts`).
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import type { Hub } from "../../core/hub.ts";
import type { Tick } from "../../core/ticker.ts";
import type { LogEntry } from "../../core/topic-log.ts";
import { conflict, notFound, unavailable } from "../../http/errors.ts";
import type { Logger } from "../../log.ts";
import { type HotState, inProcessHotState } from "./hot-state.ts";
import { KeyedSerial } from "./keyed-serial.ts";
import { guardStore } from "./store-guard.ts";
import { TimerEvents } from "./timer-events.ts";
import { loadTimers } from "./timer-load.ts";
import { TimerMap } from "./timer-map.ts";
import type { TimerEventType, TimerState, TimerView, Transition } from "./timer-state.ts";
import * as machine from "./timer-state.ts";
import type { TimerStore } from "./timer-store.ts";
import { tickTimers } from "./timer-tick.ts";

export { TIMERS_TOPIC } from "./timer-events.ts";
export { updateFragments } from "./timer-map.ts";

/** A write losing this many races in a row gives up with 503 rather than spin. */
const MAX_ATTEMPTS = 5;

export interface TimerServiceOptions {
  store: TimerStore;
  /** Defaults to none (the map is the only copy); see {@link TimerService.useHotState}. */
  hot?: HotState;
  hub: Hub;
  clock: Clock;
  log: Logger;
}

export class TimerService {
  readonly #store: TimerStore;
  #hot: HotState;
  readonly #hub: Hub;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #events: TimerEvents;
  readonly #timers = new TimerMap();
  /** Changes to one timer id run one after another. */
  readonly #serial = new KeyedSerial<number>();

  constructor(opts: TimerServiceOptions) {
    this.#store = opts.store;
    this.#hot = opts.hot ?? inProcessHotState;
    this.#hub = opts.hub;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#events = new TimerEvents(opts.hub, opts.log);
  }

  /** Switches to shared hot state (Redis), connected at start; call before {@link load}. */
  useHotState(hot: HotState): void {
    this.#hot = hot;
  }

  /** Timers held by this instance. */
  get size(): number {
    return this.#timers.size;
  }

  /**
   * Loads every timer: the hot state first (when shared), then the database, which wins by
   * version and drops timers it no longer has. Running timers kept counting while the process
   * was down (their time derives from the wall clock); the first tick expires those past due.
   */
  load(): Promise<{ source: string; count: number }> {
    return loadTimers({ store: this.#store, hot: this.#hot, timers: this.#timers, log: this.#log, saveHot: (t) => this.#saveHot(t) });
  }

  async create(sessionId: string, maxTime: number): Promise<TimerView> {
    const now = this.#clock.now();
    const t = await guardStore(() => this.#store.insert(machine.createTimer(sessionId, maxTime, now)));
    this.#timers.adopt(t);
    await this.#saveHot(t);
    await this.#publish("TIMER_CREATE", t);
    return this.#view(t);
  }

  /** The timer, reading hot state or the database when another instance created it just now. */
  async get(id: number): Promise<TimerView> {
    return this.#view(await this.#find(id));
  }

  list(sessionId?: string): TimerView[] {
    const out: TimerView[] = [];
    for (const e of this.#timers.entries()) if (sessionId === undefined || e.state.sessionId === sessionId) out.push(this.#view(e.state));
    return out.sort((a, b) => a.id - b.id);
  }

  pause(id: number): Promise<TimerView> {
    return this.#change(id, (t, now) => machine.pause(t, now));
  }

  resume(id: number): Promise<TimerView> {
    return this.#change(id, (t, now) => machine.resume(t, now));
  }

  modify(id: number, maxTime: number): Promise<TimerView> {
    return this.#change(id, (t, now) => machine.modify(t, maxTime, now));
  }

  /** Deletes the timer; returns its last state (the `TIMER_STOP` payload). */
  stop(id: number): Promise<TimerView> {
    return this.#serial.run(id, async () => {
      const t = await this.#find(id);
      const view = this.#view(t);
      if (!(await guardStore(() => this.#store.delete(id)))) {
        this.#timers.delete(id);
        throw notFound(`timer ${id} not found`);
      }
      this.#timers.delete(id);
      await this.#hot.remove(id).catch((err: unknown) => this.#log.warn({ err: String(err), id }, "timers: hot state remove failed"));
      await this.#events.append("TIMER_STOP", view);
      return view;
    });
  }

  /**
   * Once per tick: one ephemeral `TIMER_UPDATE` per running timer, and the expiry of those that
   * reached `maxTime` (a last update at `maxTime`, then a conditional write and `TIMER_EXPIRE`).
   */
  tick(tick: Tick): void {
    tickTimers(this.#timers, this.#hub, tick, (id) => this.#expire(id));
  }

  /**
   * Follows a durable entry on `timers` (ours or another instance's): with shared hot state the
   * map is refreshed from it, so that this instance ticks and expires timers changed elsewhere.
   */
  applyEntry(entry: LogEntry): void {
    if (!this.#hot.shared) return;
    // The tail may deliver our own entry before XADD's reply: then it is read back once, harmlessly.
    if (this.#events.takeOwn(entry.seq)) return;
    const type = entry.body.type;
    const id = (entry.body.payload as { id?: unknown } | undefined)?.id;
    if (typeof id !== "number") return;
    this.#serial
      .run(id, async () => {
        if (type === "TIMER_STOP") {
          this.#timers.delete(id);
          return;
        }
        const t = (await this.#hot.get(id)) ?? (await this.#store.get(id));
        if (t) this.#timers.adopt(t);
      })
      .catch((error: unknown) => this.#log.warn({ err: String(error), id, type }, "timers: could not refresh a timer changed elsewhere"));
  }

  async #expire(id: number): Promise<void> {
    try {
      await this.#serial.run(id, async () => {
        const t = this.#timers.state(id);
        if (!t) return;
        const tr = machine.expire(t, this.#clock.now());
        if (tr.kind === "changed" && !(await this.#commit(t, tr))) await this.#reload(id);
      });
    } catch (error) {
      this.#log.warn({ err: String(error), id }, "timers: expiry write failed; retrying on the next tick");
    }
  }

  #change(id: number, op: (t: TimerState, now: number) => Transition): Promise<TimerView> {
    return this.#serial.run(id, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        let t = await this.#find(id);
        const now = this.#clock.now();
        // A timer past due finishes first, exactly as the tick would have done.
        const expiry = machine.expire(t, now);
        if (expiry.kind === "changed") {
          if (!(await this.#commit(t, expiry))) {
            await this.#reload(id);
            continue;
          }
          t = expiry.timer;
        }
        const tr = op(t, now);
        if (tr.kind === "conflict") throw conflict(tr.message);
        if (tr.kind === "unchanged") return this.#view(t);
        if (await this.#commit(t, tr)) return this.#view(tr.timer);
        await this.#reload(id);
      }
      throw unavailable(`timer ${id} is being changed concurrently; retry`);
    });
  }

  /** Writes a transition conditionally; on success updates map and hot state and publishes. */
  async #commit(prev: TimerState, tr: Extract<Transition, { kind: "changed" }>): Promise<boolean> {
    if (!(await guardStore(() => this.#store.update(tr.timer, prev.version)))) return false;
    this.#timers.adopt(tr.timer);
    await this.#saveHot(tr.timer);
    for (const type of tr.events) await this.#publish(type, tr.timer);
    return true;
  }

  /** The timer from the map, else hot state, else the database; 404 when none has it. */
  async #find(id: number): Promise<TimerState> {
    const held = this.#timers.state(id);
    if (held) return held;
    const t = (this.#hot.shared ? await this.#hot.get(id).catch(() => undefined) : undefined) ?? (await guardStore(() => this.#store.get(id)));
    if (!t) throw notFound(`timer ${id} not found`);
    this.#timers.adopt(t);
    return t;
  }

  async #reload(id: number): Promise<void> {
    const t = await guardStore(() => this.#store.get(id));
    if (t) this.#timers.adopt(t, true);
    else this.#timers.delete(id);
  }

  #view(t: TimerState): TimerView {
    return this.#timers.view(t, this.#clock.now());
  }

  async #saveHot(t: TimerState): Promise<void> {
    await this.#hot
      .save(t)
      .catch((err: unknown) => this.#log.warn({ err: String(err), id: t.id }, "timers: hot state write failed; the database has the change"));
  }

  #publish(type: TimerEventType, t: TimerState): Promise<void> {
    return this.#events.append(type, this.#view(t));
  }
}
