/**
 * Timers in the embedded SQLite file through Drizzle over `bun:sqlite`. Queries are
 * synchronous underneath (microseconds for these one-row statements), so a change and its
 * outbox rows are one synchronous transaction, there is no timeout and no "unavailable" state:
 * the file is always there. A create counts timers against the limits in its (IMMEDIATE)
 * transaction, so the count and the insert cannot be split by another writer.
 * @module
 */
import { and, asc, count, eq, inArray, lt, min, sql } from "drizzle-orm";
import type { SqliteDb } from "../../infra/db/database.ts";
import { idempotencyKeys, timerOutbox, timers } from "../../infra/db/schema-sqlite.ts";
import { type AnswerCap, answerCapRefusal, answersOver } from "./answer-cap.ts";
import { refusal, type TimerLimits } from "./timer-limits.ts";
import type { TimerState } from "./timer-state.ts";
import { AnswerExistsError, type IdempotentAnswer, type OutboxEvent, type OutboxRow, type StoredAnswer, type TimerStore } from "./timer-store.ts";

type Tx = Parameters<Parameters<SqliteDb["transaction"]>[0]>[0];

const isPrimaryKeyClash = (error: unknown) => /UNIQUE constraint failed: idempotency_keys/.test(String((error as Error)?.message ?? error));

export class SqliteTimerStore implements TimerStore {
  constructor(
    private readonly db: SqliteDb,
    private readonly answerCap?: AnswerCap,
  ) {}

  async insert(timer: Omit<TimerState, "id">, events: (t: TimerState) => OutboxEvent[], answer?: IdempotentAnswer, limits?: TimerLimits): Promise<TimerState> {
    // IMMEDIATE: the write lock is taken before the count, so even another process sharing the
    // file cannot insert between count and insert.
    return this.db.transaction(
      (tx) => {
        if (limits) this.#checkRoom(tx, timer.sessionId, limits, answer);
        const row = tx.insert(timers).values(timer).returning().get()!;
        this.#extras(tx, row, events(row), answer);
        return row;
      },
      { behavior: "immediate" },
    );
  }

  async update(timer: TimerState, expectedVersion: number, events: OutboxEvent[], answer?: IdempotentAnswer): Promise<boolean> {
    const { id, ...fields } = timer;
    return this.db.transaction((tx) => {
      const rows = tx
        .update(timers)
        .set(fields)
        .where(and(eq(timers.id, id), eq(timers.version, expectedVersion)))
        .returning({ id: timers.id })
        .all();
      if (rows.length !== 1) return false;
      this.#extras(tx, timer, events, answer);
      return true;
    });
  }

  async delete(timer: TimerState, expectedVersion: number, events: OutboxEvent[], answer?: IdempotentAnswer): Promise<boolean> {
    return this.db.transaction((tx) => {
      const rows = tx
        .delete(timers)
        .where(and(eq(timers.id, timer.id), eq(timers.version, expectedVersion)))
        .returning({ id: timers.id })
        .all();
      if (rows.length !== 1) return false;
      this.#extras(tx, timer, events, answer);
      return true;
    });
  }

  async get(id: number): Promise<TimerState | undefined> {
    return this.db.select().from(timers).where(eq(timers.id, id)).get();
  }

  /** Writes here are synchronous transactions: none of this process is in flight during a read. */
  getCurrent(id: number): Promise<TimerState | undefined> {
    return this.get(id);
  }

  async keep(timer: TimerState, answer: IdempotentAnswer): Promise<TimerState | undefined> {
    return this.db.transaction((tx) => {
      const current = tx.select().from(timers).where(eq(timers.id, timer.id)).get();
      if (current?.version === timer.version) this.#extras(tx, timer, [], answer);
      return current;
    });
  }

  async all(): Promise<TimerState[]> {
    return this.db.select().from(timers).all();
  }

  async outbox(limit: number): Promise<OutboxRow[]> {
    return this.db.select().from(timerOutbox).orderBy(asc(timerOutbox.id)).limit(limit).all() as OutboxRow[];
  }

  async removeOutbox(ids: readonly number[]): Promise<void> {
    if (ids.length > 0)
      this.db
        .delete(timerOutbox)
        .where(inArray(timerOutbox.id, [...ids]))
        .run();
  }

  async outboxStats(): Promise<{ depth: number; oldestAt: number | undefined }> {
    const row = this.db
      .select({ depth: count(), oldestAt: min(timerOutbox.createdAt) })
      .from(timerOutbox)
      .get();
    return { depth: Number(row?.depth ?? 0), oldestAt: row?.oldestAt ?? undefined };
  }

  async answer(scope: string, key: string): Promise<StoredAnswer | undefined> {
    return this.db
      .select({ requestHash: idempotencyKeys.requestHash, status: idempotencyKeys.status, body: idempotencyKeys.body })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
      .get();
  }

  async purgeAnswers(before: number): Promise<void> {
    this.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before)).run();
  }

  /** Refuses one more timer in `sessionId` past a limit, unless the create already committed under its key. */
  #checkRoom(tx: Tx, sessionId: string, limits: TimerLimits, answer?: IdempotentAnswer): void {
    const session = tx.select({ n: count() }).from(timers).where(eq(timers.sessionId, sessionId)).get()?.n ?? 0;
    // The total (a scan) only when the session has room.
    const total = session >= limits.perSession ? 0 : (tx.select({ n: count() }).from(timers).get()?.n ?? 0);
    const refused = refusal(limits, { session, total });
    if (!refused) return;
    const answered =
      answer &&
      tx
        .select({ scope: idempotencyKeys.scope })
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.scope, answer.scope), eq(idempotencyKeys.key, answer.key)))
        .get();
    if (answered) throw new AnswerExistsError(answer.scope, answer.key);
    limits.refused?.(refused.limit);
    throw refused;
  }

  #extras(tx: Tx, timer: TimerState, events: OutboxEvent[], answer?: IdempotentAnswer): void {
    if (events.length > 0) tx.insert(timerOutbox).values(events).run();
    if (!answer) return;
    const { scope, key, owner, requestHash, status, createdAt } = answer;
    try {
      tx.insert(idempotencyKeys)
        .values({ scope, key, owner, requestHash, status, body: answer.body(timer), createdAt })
        .run();
    } catch (error) {
      if (isPrimaryKeyClash(error)) throw new AnswerExistsError(scope, key);
      throw error;
    }
    if (this.answerCap) this.#fitAnswers(tx, answer, this.answerCap);
  }

  /** Makes room for the answer just stored: its owner's oldest go, if old enough (`answer-cap.ts`). */
  #fitAnswers(tx: Tx, answer: IdempotentAnswer, cap: AnswerCap): void {
    const stored = tx.select({ n: count() }).from(idempotencyKeys).where(eq(idempotencyKeys.owner, answer.owner)).get()?.n ?? 0;
    const over = answersOver(cap, stored);
    if (over === 0) return;
    const rowid = sql<number>`rowid`;
    const oldest = tx
      .select({ rowid })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.owner, answer.owner), lt(idempotencyKeys.createdAt, answer.createdAt - cap.keepMs)))
      .orderBy(asc(idempotencyKeys.createdAt))
      .limit(over)
      .all();
    if (oldest.length < over) throw answerCapRefusal(cap);
    tx.delete(idempotencyKeys)
      .where(
        inArray(
          rowid,
          oldest.map((r) => r.rowid),
        ),
      )
      .run();
  }
}
