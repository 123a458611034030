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
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import type { Hub } from "../../core/hub.ts";
import type { Tick } from "../../core/ticker.ts";
import type { LogEntry } from "../../core/topic-log.ts";
import { conflict, notFound, unavailable } from "../../http/errors.ts";
import type { Logger } from "../../log.ts";
import { type HotState, inProcessHotState } from "./hot-state.ts";
import * as machine from "./timer-state.ts";
import type { TimerEventType, TimerState, TimerView, Transition } from "./timer-state.ts";
import { StoreUnavailableError, type TimerStore } from "./timer-store.ts";

export const TIMERS_TOPIC = "timers";

/** A write losing this many races in a row gives up with 503 rather than spin. */
const MAX_ATTEMPTS = 5;

/** A timer in the map, with what the per-tick path reuses instead of rebuilding. */
interface Entry {
  state: TimerState;
  /** `timer:<id>`, `session:<sessionId>`, `timers`: the topics of its events. */
  topics: readonly string[];
  createdIso: string;
  updatedIso: string;
  /** An expiry write is in flight; the tick does not start another. */
  expiring: boolean;
  /**
   * The per-tick `TIMER_UPDATE` body's JSON around `currentTime`, the only field that changes
   * between ticks: building `head + n + tail` is several times cheaper than `JSON.stringify`,
   * which matters with 10 000 timers per tick. Rebuilt whenever the state changes.
   */
  updateHead: string;
  updateTail: string;
}

/** The cached JSON fragments of `TIMER_UPDATE` for a timer (see {@link Entry}). */
export function updateFragments(t: TimerState, createdIso: string, updatedIso: string): { updateHead: string; updateTail: string } {
  return {
    updateHead: `{"type":"TIMER_UPDATE","payload":{"id":${t.id},"sessionId":${JSON.stringify(t.sessionId)},"currentTime":`,
    updateTail: `,"maxTime":${t.maxTime},"isPaused":${t.status !== "running"},"status":"${t.status}","createdAt":"${createdIso}","updatedAt":"${updatedIso}"}}`,
  };
}

/** How many of our own appended seqs to remember until the tail hands them back. */
const OWN_SEQS_KEPT = 4096;

export interface TimerServiceOptions {
  store: TimerStore;
  /** Defaults to none (the map is the only copy); see {@link TimerService.useHotState}. */
  hot?: HotState;
  hub: Hub;
  clock: Clock;
  log: Logger;
}

export class TimerService {
  /** Seqs of entries this instance appended, not yet seen on the tail (bounded, oldest dropped). */
  #ownSeqs = new Set<string>();
  readonly #store: TimerStore;
  #hot: HotState;
  readonly #hub: Hub;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timers = new Map<number, Entry>();
  /** Tail of the chain of pending changes per timer id. */
  readonly #chains = new Map<number, Promise<unknown>>();

  constructor(opts: TimerServiceOptions) {
    this.#store = opts.store;
    this.#hot = opts.hot ?? inProcessHotState;
    this.#hub = opts.hub;
    this.#clock = opts.clock;
    this.#log = opts.log;
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
  async load(): Promise<{ source: string; count: number }> {
    let source = "database";
    if (this.#hot.shared) {
      try {
        const hot = await this.#hot.loadAll();
        if (hot) {
          for (const t of hot) this.#adopt(t);
          source = "redis+database";
        }
      } catch (error) {
        this.#log.warn({ err: String(error) }, "timers: could not read hot state; loading from the database");
      }
    }
    try {
      const rows = await this.#store.all();
      const ids = new Set<number>();
      const stale: TimerState[] = [];
      for (const row of rows) {
        ids.add(row.id);
        const held = this.#timers.get(row.id)?.state;
        if (held && held.version === row.version) continue;
        this.#adopt(row, true);
        stale.push(row);
      }
      // Concurrent commands share one Redis connection, pipelined: one round trip, not N.
      if (this.#hot.shared) await Promise.all(stale.map((row) => this.#saveHot(row)));
      // In hot state but deleted from the database (stopped while a hot-state write failed).
      const gone = [...this.#timers.keys()].filter((id) => !ids.has(id));
      for (const id of gone) this.#timers.delete(id);
      await Promise.all(gone.map((id) => this.#hot.remove(id).catch(() => {})));
    } catch (error) {
      if (source === "database") throw error;
      this.#log.warn({ err: String(error) }, "timers: database unreachable at start; serving the hot state");
      source = "redis";
    }
    return { source, count: this.#timers.size };
  }

  async create(sessionId: string, maxTime: number): Promise<TimerView> {
    const now = this.#clock.now();
    const t = await this.#guard(() => this.#store.insert(machine.createTimer(sessionId, maxTime, now)));
    this.#adopt(t);
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
    for (const e of this.#timers.values()) if (sessionId === undefined || e.state.sessionId === sessionId) out.push(this.#view(e.state));
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
    return this.#serial(id, async () => {
      const t = await this.#find(id);
      const view = this.#view(t);
      if (!(await this.#guard(() => this.#store.delete(id)))) {
        this.#timers.delete(id);
        throw notFound(`timer ${id} not found`);
      }
      this.#timers.delete(id);
      await this.#hot.remove(id).catch((err: unknown) => this.#log.warn({ err: String(err), id }, "timers: hot state remove failed"));
      await this.#append("TIMER_STOP", view);
      return view;
    });
  }

  /**
   * Once per tick: one ephemeral `TIMER_UPDATE` per running timer, and the expiry of those that
   * reached `maxTime` (a last update at `maxTime`, then a conditional write and `TIMER_EXPIRE`).
   */
  tick(tick: Tick): void {
    const now = tick.at;
    const opts = { deadline: tick.deadline, tickAt: tick.at };
    for (const e of this.#timers.values()) {
      const t = e.state;
      if (t.status !== "running" || e.expiring) continue;
      // Inlined `isDue` / `currentTime`: this loop runs for every timer on every tick.
      const elapsed = t.accumulatedMs + (t.startedAt === null ? 0 : Math.max(0, now - t.startedAt));
      const due = elapsed >= t.maxTime * 1000;
      const seconds = due ? t.maxTime : Math.floor(elapsed / 1000);
      this.#hub.emitJson(e.topics, () => e.updateHead + seconds + e.updateTail, opts);
      if (due) {
        e.expiring = true;
        this.#expire(t.id).finally(() => {
          e.expiring = false;
        });
      }
    }
  }

  /**
   * Follows a durable entry on `timers` (ours or another instance's): with shared hot state the
   * map is refreshed from it, so that this instance ticks and expires timers changed elsewhere.
   */
  applyEntry(entry: LogEntry): void {
    if (!this.#hot.shared) return;
    // The tail may deliver our own entry before XADD's reply: then it is read back once, harmlessly.
    if (this.#ownSeqs.delete(entry.seq)) return;
    const type = entry.body.type;
    const id = (entry.body.payload as { id?: unknown } | undefined)?.id;
    if (typeof id !== "number") return;
    this.#serial(id, async () => {
      if (type === "TIMER_STOP") {
        this.#timers.delete(id);
        return;
      }
      const t = (await this.#hot.get(id)) ?? (await this.#store.get(id));
      if (t) this.#adopt(t);
    }).catch((error: unknown) => this.#log.warn({ err: String(error), id, type }, "timers: could not refresh a timer changed elsewhere"));
  }

  async #expire(id: number): Promise<void> {
    try {
      await this.#serial(id, async () => {
        const t = this.#timers.get(id)?.state;
        if (!t) return;
        const tr = machine.expire(t, this.#clock.now());
        if (tr.kind === "changed" && !(await this.#commit(t, tr))) await this.#reload(id);
      });
    } catch (error) {
      this.#log.warn({ err: String(error), id }, "timers: expiry write failed; retrying on the next tick");
    }
  }

  #change(id: number, op: (t: TimerState, now: number) => Transition): Promise<TimerView> {
    return this.#serial(id, async () => {
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
    if (!(await this.#guard(() => this.#store.update(tr.timer, prev.version)))) return false;
    this.#adopt(tr.timer);
    await this.#saveHot(tr.timer);
    for (const type of tr.events) await this.#publish(type, tr.timer);
    return true;
  }

  /** The timer from the map, else hot state, else the database; 404 when none has it. */
  async #find(id: number): Promise<TimerState> {
    const held = this.#timers.get(id)?.state;
    if (held) return held;
    const t = (this.#hot.shared ? await this.#hot.get(id).catch(() => undefined) : undefined) ?? (await this.#guard(() => this.#store.get(id)));
    if (!t) throw notFound(`timer ${id} not found`);
    this.#adopt(t);
    return t;
  }

  async #reload(id: number): Promise<void> {
    const t = await this.#guard(() => this.#store.get(id));
    if (t) this.#adopt(t, true);
    else this.#timers.delete(id);
  }

  /** Puts `t` in the map unless the map already holds a newer version (or `force`). */
  #adopt(t: TimerState, force = false): void {
    const e = this.#timers.get(t.id);
    if (e) {
      if (!force && e.state.version > t.version) return;
      if (e.state.updatedAt !== t.updatedAt) e.updatedIso = new Date(t.updatedAt).toISOString();
      e.state = t;
      Object.assign(e, updateFragments(t, e.createdIso, e.updatedIso));
      return;
    }
    const createdIso = new Date(t.createdAt).toISOString();
    const updatedIso = t.updatedAt === t.createdAt ? createdIso : new Date(t.updatedAt).toISOString();
    this.#timers.set(t.id, {
      state: t,
      topics: [`timer:${t.id}`, `session:${t.sessionId}`, TIMERS_TOPIC],
      createdIso,
      updatedIso,
      expiring: false,
      ...updateFragments(t, createdIso, updatedIso),
    });
  }

  #view(t: TimerState): TimerView {
    const e = this.#timers.get(t.id);
    return e && e.state === t ? this.#entryView(e, this.#clock.now()) : machine.toView(t, this.#clock.now());
  }

  #entryView(e: Entry, now: number): TimerView {
    const t = e.state;
    return {
      id: t.id,
      sessionId: t.sessionId,
      currentTime: machine.currentTime(t, now),
      maxTime: t.maxTime,
      isPaused: t.status !== "running",
      status: t.status,
      createdAt: e.createdIso,
      updatedAt: e.updatedIso,
    };
  }

  async #saveHot(t: TimerState): Promise<void> {
    await this.#hot.save(t).catch((err: unknown) => this.#log.warn({ err: String(err), id: t.id }, "timers: hot state write failed; the database has the change"));
  }

  #publish(type: TimerEventType, t: TimerState): Promise<void> {
    return this.#append(type, this.#view(t));
  }

  /** Appends a durable event. The change is already committed, so a failure is logged, not thrown. */
  async #append(type: TimerEventType, payload: TimerView): Promise<void> {
    try {
      const { seq } = await this.#hub.append(TIMERS_TOPIC, { type, payload });
      // Our own change is already in the map: `applyEntry` need not read it back from Redis.
      this.#ownSeqs.add(seq);
      if (this.#ownSeqs.size > OWN_SEQS_KEPT) this.#ownSeqs.delete(this.#ownSeqs.values().next().value!);
    } catch (error) {
      this.#log.error({ err: String(error), type, id: payload.id }, "timers: event committed to the database but not published");
    }
  }

  /** Turns an unreachable database into a 503 for requests. */
  async #guard<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw unavailable(`${error.message}; timer changes are refused until it is back`, 2, error);
      throw error;
    }
  }

  /** Runs `fn` after every change already queued for timer `id`. */
  #serial<T>(id: number, fn: () => Promise<T>): Promise<T> {
    const prev = this.#chains.get(id) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.catch(() => {});
    this.#chains.set(id, tail);
    void tail.then(() => {
      if (this.#chains.get(id) === tail) this.#chains.delete(id);
    });
    return run;
  }
}
