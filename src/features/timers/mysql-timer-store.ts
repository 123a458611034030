/**
 * Timers in MySQL / MariaDB through Drizzle over a mysql2 pool. MySQL has no `RETURNING`, so
 * inserts read the new id with `$returningId()`; conditional writes count `affectedRows`
 * (every write bumps `version`, so a matched row is always a changed row). Each change is one
 * transaction with its outbox rows and, when asked, its idempotent answer; a create checks the
 * timer limits in its transaction, taking turns with every other create (`mysql-timer-limits.ts`).
 *
 * A server that cannot be reached becomes {@link StoreUnavailableError} (503: nothing written).
 * A write that hangs (server stopped mid-query, network partition) is abandoned after
 * `queryTimeoutMs` as {@link StoreOutcomeUnknownError} (504) and its connection destroyed: the
 * server rolls the transaction back when it sees the connection gone (on a dead path it never
 * does: once the transaction has sat idle past the longest lease, `mysql-lease.ts`), unless its
 * COMMIT reached it first; then the outbox rows publish it. A query that waited that long for a connection
 * never runs (503). A deadlock victim (InnoDB rolled it back) runs again, up to 3 runs in all;
 * then it, like a lock wait timeout, is a 503: nothing of it was written.
 * @module
 */
import { and, asc, count, eq, inArray, lt, min } from "drizzle-orm";
import { LeaseConnectError, LeaseTimeoutError, type MysqlDb, type MysqlHandle } from "../../infra/db/database.ts";
import { idempotencyKeys, timerOutbox, timers } from "../../infra/db/schema-mysql.ts";
import { type AnswerCap, answerCapRefusal, answersOver } from "./answer-cap.ts";
import { connectionFailure, isDuplicateKey } from "./mysql-errors.ts";
import { isDeadlock, isLockWaitTimeout } from "./mysql-rollbacks.ts";
import { checkRoom, lockCreates } from "./mysql-timer-limits.ts";
import type { TimerLimits } from "./timer-limits.ts";
import type { TimerState } from "./timer-state.ts";
import {
  AnswerExistsError,
  type IdempotentAnswer,
  type OutboxEvent,
  type OutboxRow,
  type StoredAnswer,
  StoreOutcomeUnknownError,
  StoreUnavailableError,
  type TimerStore,
} from "./timer-store.ts";

type Tx = Parameters<Parameters<MysqlDb["transaction"]>[0]>[0];

/** Runs of a query or transaction that InnoDB rolled back to break a deadlock, before it is a 503. */
const DEADLOCK_RUNS = 3;

export class MysqlTimerStore implements TimerStore {
  constructor(
    private readonly database: Pick<MysqlHandle, "withConnection">,
    private readonly queryTimeoutMs: number,
    private readonly answerCap?: AnswerCap,
  ) {}

  async insert(timer: Omit<TimerState, "id">, events: (t: TimerState) => OutboxEvent[], answer?: IdempotentAnswer, limits?: TimerLimits): Promise<TimerState> {
    // Without the lock first: a full session or table is refused without queueing on it.
    if (limits) await this.#run("limit check", false, (db) => checkRoom(db, timer.sessionId, limits, answer));
    return this.#write("insert", async (tx) => {
      if (limits) {
        // The lock must be the transaction's first statement (see mysql-timer-limits.ts).
        await lockCreates(tx);
        await checkRoom(tx, timer.sessionId, limits, answer);
      }
      return this.#insertIn(tx, timer, events, answer);
    });
  }

  update(timer: TimerState, expectedVersion: number, events: OutboxEvent[], answer?: IdempotentAnswer): Promise<boolean> {
    return this.#write("update", async (tx) => {
      const { id, ...fields } = timer;
      const [result] = await tx
        .update(timers)
        .set(fields)
        .where(and(eq(timers.id, id), eq(timers.version, expectedVersion)));
      if (result.affectedRows !== 1) return false;
      await this.#extras(tx, timer, events, answer);
      return true;
    });
  }

  delete(timer: TimerState, expectedVersion: number, events: OutboxEvent[], answer?: IdempotentAnswer): Promise<boolean> {
    return this.#write("delete", async (tx) => {
      const [result] = await tx.delete(timers).where(and(eq(timers.id, timer.id), eq(timers.version, expectedVersion)));
      if (result.affectedRows !== 1) return false;
      await this.#extras(tx, timer, events, answer);
      return true;
    });
  }

  get(id: number): Promise<TimerState | undefined> {
    return this.#run("select", false, async (db) => (await db.select().from(timers).where(eq(timers.id, id)))[0]);
  }

  /** `FOR UPDATE` waits for a write in flight (its row lock); in autocommit the lock ends with the statement. */
  getCurrent(id: number): Promise<TimerState | undefined> {
    return this.#run("locking select", false, async (db) => (await db.select().from(timers).where(eq(timers.id, id)).for("update"))[0]);
  }

  keep(timer: TimerState, answer: IdempotentAnswer): Promise<TimerState | undefined> {
    return this.#write("answer write", async (tx) => {
      const [current] = await tx.select().from(timers).where(eq(timers.id, timer.id)).for("update");
      if (current?.version === timer.version) await this.#extras(tx, timer, [], answer);
      return current;
    });
  }

  all(): Promise<TimerState[]> {
    return this.#run("select", false, (db) => db.select().from(timers));
  }

  outbox(limit: number): Promise<OutboxRow[]> {
    return this.#run("outbox read", false, (db) => db.select().from(timerOutbox).orderBy(asc(timerOutbox.id)).limit(limit) as Promise<OutboxRow[]>);
  }

  async removeOutbox(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#run("outbox delete", false, (db) => db.delete(timerOutbox).where(inArray(timerOutbox.id, [...ids])));
  }

  outboxStats(): Promise<{ depth: number; oldestAt: number | undefined }> {
    return this.#run("outbox stats", false, async (db) => {
      const [row] = await db.select({ depth: count(), oldestAt: min(timerOutbox.createdAt) }).from(timerOutbox);
      return { depth: Number(row?.depth ?? 0), oldestAt: row?.oldestAt ?? undefined };
    });
  }

  answer(scope: string, key: string): Promise<StoredAnswer | undefined> {
    return this.#run("answer read", false, async (db) => {
      const [row] = await db
        .select({ requestHash: idempotencyKeys.requestHash, status: idempotencyKeys.status, body: idempotencyKeys.body })
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
      return row;
    });
  }

  async purgeAnswers(before: number): Promise<void> {
    await this.#run("answer purge", false, (db) => db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before)));
  }

  async #insertIn(tx: Tx, timer: Omit<TimerState, "id">, events: (t: TimerState) => OutboxEvent[], answer?: IdempotentAnswer): Promise<TimerState> {
    const [row] = await tx.insert(timers).values(timer).$returningId();
    const stored = { ...timer, id: row!.id };
    await this.#extras(tx, stored, events(stored), answer);
    return stored;
  }

  /** The outbox rows and the idempotent answer of a change, in its transaction. */
  async #extras(tx: Tx, timer: TimerState, events: OutboxEvent[], answer?: IdempotentAnswer): Promise<void> {
    if (events.length > 0) await tx.insert(timerOutbox).values(events);
    if (!answer) return;
    const { scope, key, owner, requestHash, status, createdAt } = answer;
    try {
      await tx.insert(idempotencyKeys).values({ scope, key, owner, requestHash, status, body: answer.body(timer), createdAt });
    } catch (error) {
      if (isDuplicateKey(error)) throw new AnswerExistsError(scope, key);
      throw error;
    }
    if (this.answerCap) await this.#fitAnswers(tx, answer, this.answerCap);
  }

  /** Makes room for the answer just stored: its owner's oldest go, if old enough (`answer-cap.ts`). */
  async #fitAnswers(tx: Tx, answer: IdempotentAnswer, cap: AnswerCap): Promise<void> {
    const [row] = await tx.select({ n: count() }).from(idempotencyKeys).where(eq(idempotencyKeys.owner, answer.owner));
    const over = answersOver(cap, Number(row?.n ?? 0));
    if (over === 0) return;
    const [result] = await tx
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.owner, answer.owner), lt(idempotencyKeys.createdAt, answer.createdAt - cap.keepMs)))
      .orderBy(asc(idempotencyKeys.createdAt))
      .limit(over);
    if (result.affectedRows < over) throw answerCapRefusal(cap);
  }

  #write<T>(what: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#run(what, true, (db) => db.transaction(work));
  }

  /**
   * Runs `query` on a connection of its own, given up after `queryTimeoutMs`: the connection is
   * then destroyed (a stuck one would hold its pool slot for good), and a request still waiting
   * for one never runs. Until a connection was handed out nothing was sent: a 503 for a write too.
   * A deadlock victim is run again (nothing of it was written), within the same time.
   */
  async #run<T>(what: string, write: boolean, query: (db: MysqlDb) => Promise<T>): Promise<T> {
    try {
      return await this.database.withConnection(this.queryTimeoutMs, async (db) => {
        for (let run = 1; ; run++) {
          try {
            return await query(db);
          } catch (error) {
            if (run >= DEADLOCK_RUNS || !isDeadlock(error)) throw error;
          }
        }
      });
    } catch (error) {
      if (isDeadlock(error) || isLockWaitTimeout(error)) {
        const why = isDeadlock(error) ? `deadlocked ${DEADLOCK_RUNS} times` : "waited too long for a lock";
        throw new StoreUnavailableError(`a timer ${what} ${why}; rolled back, nothing written`, { cause: error });
      }
      if (error instanceof LeaseTimeoutError) {
        if (!error.sent)
          throw new StoreUnavailableError(`database handed out no connection for a timer ${what} within ${this.queryTimeoutMs} ms`, { cause: error });
        const message = `database did not answer a timer ${what} within ${this.queryTimeoutMs} ms`;
        throw write ? new StoreOutcomeUnknownError(`${message}; it may still commit`, { cause: error }) : new StoreUnavailableError(message, { cause: error });
      }
      if (error instanceof AnswerExistsError) throw error;
      const failure = connectionFailure(error);
      // Never given a connection: nothing was sent, whatever broke the one being opened.
      if (error instanceof LeaseConnectError)
        throw new StoreUnavailableError(`database unreachable (${failure?.code ?? "connect"}) opening a connection for a timer ${what}; nothing was sent`, {
          cause: error,
        });
      if (!failure) throw error;
      const message = `database unreachable (${failure.code}) during a timer ${what}`;
      if (write && failure.kind === "lost") throw new StoreOutcomeUnknownError(`${message}; it may have committed`, { cause: error });
      throw new StoreUnavailableError(message, { cause: error });
    }
  }
}
