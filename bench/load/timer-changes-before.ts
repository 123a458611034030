/**
 * The baseline of `timer-changes.ts`: the timer change path as it was before the transactional
 * outbox (issue #15; `git show 50f3528:src/features/timers/timer-service.ts` and its
 * `mysql-timer-store.ts`, `timer-events.ts`), rebuilt on the same Drizzle tables:
 *
 * - the pure transition (`timer-state.ts`), per-timer serialization (`KeyedSerial`) and the
 *   expiry check first, as the old `TimerService.#change` did;
 * - ONE conditional `UPDATE timers … WHERE id = ? AND version = ?` in autocommit (no
 *   transaction, no outbox row), raced against the query timeout as the old store did;
 * - then `hub.append("timers", { type, payload })` (no event id), awaited before the call
 *   returns, as the old `TimerEvents.append` was.
 *
 * Hot state is in-process in both variants of the benchmark (a no-op), so neither pays for it.
 * @module
 */
import { and, eq } from "drizzle-orm";
import type { Clock } from "../../src/core/clock.ts";
import type { Hub } from "../../src/core/hub.ts";
import { KeyedSerial } from "../../src/features/timers/keyed-serial.ts";
import { TIMERS_TOPIC } from "../../src/features/timers/timer-events.ts";
import type { TimerEventType, TimerState, TimerView, Transition } from "../../src/features/timers/timer-state.ts";
import * as machine from "../../src/features/timers/timer-state.ts";
import type { MysqlDb } from "../../src/infra/db/database.ts";
import { timers } from "../../src/infra/db/schema-mysql.ts";

export interface PreOutboxOptions {
  db: MysqlDb;
  hub: Hub;
  clock: Clock;
  /** As `DB_QUERY_TIMEOUT_MS` (default 5000). */
  queryTimeoutMs?: number;
}

export class PreOutboxTimers {
  readonly #o: Required<PreOutboxOptions>;
  readonly #timers = new Map<number, TimerState>();
  readonly #serial = new KeyedSerial<number>();

  constructor(opts: PreOutboxOptions) {
    this.#o = { queryTimeoutMs: 5000, ...opts };
  }

  /** The old create: an autocommit INSERT, then the `TIMER_CREATE` append. */
  async create(sessionId: string, maxTime: number): Promise<TimerView> {
    const draft = machine.createTimer(sessionId, maxTime, this.#o.clock.now());
    const [row] = await this.#run(() => this.#o.db.insert(timers).values(draft).$returningId());
    const t = { ...draft, id: row!.id };
    this.#timers.set(t.id, t);
    await this.#publish("TIMER_CREATE", t);
    return this.#view(t);
  }

  /** `onCommitted` is called once the UPDATE answered (before the append). */
  pause(id: number, onCommitted?: () => void): Promise<TimerView> {
    return this.#change(id, (t, now) => machine.pause(t, now), onCommitted);
  }

  resume(id: number, onCommitted?: () => void): Promise<TimerView> {
    return this.#change(id, (t, now) => machine.resume(t, now), onCommitted);
  }

  #change(id: number, op: (t: TimerState, now: number) => Transition, onCommitted?: () => void): Promise<TimerView> {
    return this.#serial.run(id, async () => {
      let t = this.#timers.get(id);
      if (!t) throw new Error(`timer ${id} not found`);
      const now = this.#o.clock.now();
      const expiry = machine.expire(t, now);
      if (expiry.kind === "changed") {
        await this.#commit(t, expiry);
        t = expiry.timer;
      }
      const tr = op(t, now);
      if (tr.kind === "conflict") throw new Error(tr.message);
      if (tr.kind === "unchanged") return this.#view(t);
      await this.#commit(t, tr, onCommitted);
      return this.#view(tr.timer);
    });
  }

  async #commit(prev: TimerState, tr: Extract<Transition, { kind: "changed" }>, onCommitted?: () => void): Promise<void> {
    const { id, ...fields } = tr.timer;
    const [result] = await this.#run(() =>
      this.#o.db
        .update(timers)
        .set(fields)
        .where(and(eq(timers.id, id), eq(timers.version, prev.version))),
    );
    // The old service reloaded and retried; the benchmark changes each timer from one worker only.
    if (result.affectedRows !== 1) throw new Error(`baseline: timer ${id} lost a race it cannot lose in this benchmark`);
    onCommitted?.();
    this.#timers.set(id, tr.timer);
    for (const type of tr.events) await this.#publish(type, tr.timer);
  }

  async #publish(type: TimerEventType, t: TimerState): Promise<void> {
    await this.#o.hub.append(TIMERS_TOPIC, { type, payload: this.#view(t) });
  }

  #view(t: TimerState): TimerView {
    return machine.toView(t, this.#o.clock.now());
  }

  async #run<T>(query: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`database did not answer within ${this.#o.queryTimeoutMs} ms`)), this.#o.queryTimeoutMs);
    });
    try {
      return await Promise.race([query(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
