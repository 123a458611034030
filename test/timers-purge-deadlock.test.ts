/**
 * Housekeeping's purge of day-old answers (one DELETE over `created_at`) and a keyed change past
 * the answer cap (`#fitAnswers`' DELETE over `(owner, created_at)`) lock the same old answers in
 * opposite orders: InnoDB breaks the deadlock by rolling one back (ER_LOCK_DEADLOCK), which
 * surfaced as a 500. Nothing of a rolled-back transaction is written, so the store runs it
 * again. The timing is forced with an AFTER INSERT trigger in this file's own database that holds
 * the change between its answer insert and its cap delete (it only delays; the statements are
 * the store's own).
 */
import { afterAll, expect, it } from "bun:test";
import { createConnection } from "mysql2/promise";
import { createTimer } from "../src/features/timers/timer-state.ts";
import type { IdempotentAnswer } from "../src/features/timers/timer-store.ts";
import { timerStoreFor } from "../src/features/timers/timer-store-for.ts";
import { openDatabase } from "../src/infra/db/database.ts";
import { until } from "./support/until.ts";
import { ownDatabase } from "./timers-support.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const DAY = 86_400_000;

it("a keyed change past the cap concurrent with the purge commits, and so does the purge", async () => {
  const own = await ownDatabase("purgedeadlock");
  cleanups.push(() => own.drop());
  const db = await openDatabase(own.url);
  cleanups.push(() => db.close());
  const store = timerStoreFor(db, { answerCap: { perOwner: 2, keepMs: 3_600_000 } });
  const now = Date.now();
  const ans = (key: string, createdAt: number, owner = "o"): IdempotentAnswer => ({
    scope: "PUT /timer/1/pause",
    key,
    owner,
    requestHash: "h",
    status: 200,
    body: () => "{}",
    createdAt,
  });
  let t = await store.insert(createTimer("s", 600, now), () => []);
  const change = async (a: IdempotentAnswer) => {
    const next = { ...t, version: t.version + 1 };
    const ok = await store.update(next, t.version, [], a);
    if (ok) t = next;
    return ok;
  };
  await change(ans("old1", now - 2 * DAY));
  await change(ans("old2", now - 2 * DAY + 1));
  // Other clients' answers older than the purge's bound (the purge deletes them too).
  for (let i = 0; i < 40; i++) await change(ans(`p${i}`, now - 2 * DAY + 10 + i, `p${i}`));
  const u = new URL(own.url);
  const conn = await createConnection({ host: u.hostname, port: Number(u.port || 3306), user: "root", database: u.pathname.slice(1) });
  cleanups.push(() => conn.end());
  await conn.query("CREATE TRIGGER hold AFTER INSERT ON idempotency_keys FOR EACH ROW BEGIN IF NEW.idem_key = 'zzz-new' THEN DO SLEEP(1.5); END IF; END");
  const changed = change(ans("zzz-new", now)).then(
    (ok) => ({ ok }),
    (e: Error) => ({ error: `${e.name}: ${e.message}` }),
  );
  // The change is held inside its transaction, its answer inserted.
  await until(async () => {
    const [rows] = (await conn.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE = 'User sleep'")) as unknown as [
      { n: number | string }[],
    ];
    return Number(rows[0]?.n) > 0;
  });
  const purged = store.purgeAnswers(now - DAY).then(
    () => ({ ok: true }),
    (e: Error) => ({ error: `${e.name}: ${e.message}` }),
  );
  expect(await Promise.all([changed, purged])).toEqual([{ ok: true }, { ok: true }]);
  const [left] = (await conn.query("SELECT idem_key FROM idempotency_keys ORDER BY idem_key")) as unknown as [{ idem_key: string }[]];
  expect(left.map((r) => r.idem_key)).toEqual(["zzz-new"]);
}, 30_000);
