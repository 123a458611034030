/**
 * The timer limits in MySQL / MariaDB, checked in the insert's transaction. Every create first
 * locks the one row of `timer_create_lock` (`SELECT ... FOR UPDATE`, the transaction's first
 * statement), then counts: creates on every instance take turns, and the count (a consistent
 * read, whose REPEATABLE READ snapshot is taken after the lock was granted) sees every create
 * that committed before, so the limits hold exactly. Only creates take the lock (changes and
 * stops never wait for it), and a create takes it before any other lock, so waiting for it
 * cannot be part of a deadlock. A wait longer than `DB_QUERY_TIMEOUT_MS` is answered 504
 * `outcome_unknown` like any slow write (its connection is closed: the server rolls the create
 * back once it notices). A count outside any transaction refuses first, so a client hammering a
 * full session does not queue on the lock in front of the others.
 * @module
 */
import { and, eq, sql } from "drizzle-orm";
import type { MysqlDb } from "../../infra/db/database.ts";
import { idempotencyKeys, timerCreateLock, timers } from "../../infra/db/schema-mysql.ts";
import { refusal, type TimerCounts, type TimerLimits } from "./timer-limits.ts";
import { AnswerExistsError } from "./timer-store.ts";

type Tx = Parameters<Parameters<MysqlDb["transaction"]>[0]>[0];

const LOCK_ROW = "timers";

/** Waits for this transaction's turn to create a timer (the lock is released at commit). */
export async function lockCreates(tx: Tx): Promise<void> {
  const locked = await tx.select().from(timerCreateLock).where(eq(timerCreateLock.name, LOCK_ROW)).for("update");
  if (locked.length > 0) return;
  // The migration inserted the row; should it be gone, the first create to miss it puts it back.
  await tx.insert(timerCreateLock).ignore().values({ name: LOCK_ROW });
  await tx.select().from(timerCreateLock).where(eq(timerCreateLock.name, LOCK_ROW)).for("update");
}

/**
 * Timers in `sessionId` (a range of `timers_session_id_idx`) and in all (a scan of that index:
 * about 2 ms at 20 000 rows here), in one query. The total is not counted when the session is
 * full already (NULL, read as "no room"): a client hammering a full session costs an index
 * lookup, not a scan.
 */
async function countTimers(q: MysqlDb | Tx, sessionId: string, limits: TimerLimits): Promise<TimerCounts> {
  const [rows] = (await q.execute(
    sql`SELECT c.n AS session, IF(c.n >= ${limits.perSession}, NULL, (SELECT COUNT(*) FROM ${timers})) AS total
        FROM (SELECT COUNT(*) AS n FROM ${timers} WHERE ${timers.sessionId} = ${sessionId}) AS c`,
  )) as unknown as [{ session: number | string; total: number | string | null }[]];
  const row = rows[0];
  return { session: Number(row?.session ?? 0), total: row?.total == null ? Number.POSITIVE_INFINITY : Number(row.total) };
}

/**
 * Refuses one more timer in `sessionId` if the limits leave no room ({@link TimerLimitError},
 * counted), unless the create already committed under the same `Idempotency-Key`: then
 * {@link AnswerExistsError}, and the caller replays the stored answer, never a 429.
 */
export async function checkRoom(q: MysqlDb | Tx, sessionId: string, limits: TimerLimits, answer?: { scope: string; key: string }): Promise<void> {
  const refused = refusal(limits, await countTimers(q, sessionId, limits));
  if (!refused) return;
  if (answer) {
    const [answered] = await q
      .select({ scope: idempotencyKeys.scope })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, answer.scope), eq(idempotencyKeys.key, answer.key)));
    if (answered) throw new AnswerExistsError(answer.scope, answer.key);
  }
  limits.refused?.(refused.limit);
  throw refused;
}
