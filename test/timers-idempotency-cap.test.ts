/**
 * Answers stored under `Idempotency-Key`s are bounded per token `sub` (`IDEMPOTENCY_KEYS_PER_SUB`),
 * in both dialects: past the cap the owner's oldest answers go once an hour old; a change whose
 * answer would need a younger one to go is refused with 429 `limit_exceeded` and changes
 * nothing; a replay of a stored key still answers; other owners are not affected. (Without the
 * bound, one client sending a new key with each request grew the table by ~2.4 KB per request for
 * a day: memory with `sqlite::memory:`.)
 */
import { afterAll, describe, expect, it } from "bun:test";
import { ANSWER_KEEP_MS, type AnswerCap } from "../src/features/timers/answer-cap.ts";
import { createTimer, type TimerState } from "../src/features/timers/timer-state.ts";
import type { IdempotentAnswer, TimerStore } from "../src/features/timers/timer-store.ts";
import { timerStoreFor } from "../src/features/timers/timer-store-for.ts";
import { HttpError } from "../src/http/errors.ts";
import { type Database, openDatabase } from "../src/infra/db/database.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer } from "./support/server.ts";
import { ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

const T0 = 1_800_000_000_000;

const answer = (key: string, owner: string, createdAt: number): IdempotentAnswer => ({
  scope: "PUT /timer/1/pause",
  key,
  owner,
  requestHash: "h",
  status: 200,
  body: () => `{"key":"${key}"}`,
  createdAt,
});

describe.each(["sqlite", "mysql"] as const)("stored answers per owner (%s store)", (dialect) => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function store(cap: AnswerCap): Promise<TimerStore> {
    let db: Database;
    if (dialect === "sqlite") db = await openDatabase("sqlite::memory:");
    else {
      const own = await ownDatabase("answers");
      cleanups.push(() => own.drop());
      db = await openDatabase(own.url);
    }
    cleanups.push(() => db.close());
    return timerStoreFor(db, { answerCap: cap });
  }

  it("keeps at most perOwner, drops the oldest past an hour, refuses when all are younger", async () => {
    let refused = 0;
    const s = await store({ perOwner: 3, keepMs: ANSWER_KEEP_MS, refused: () => refused++ });
    let t: TimerState = await s.insert(createTimer("s1", 600, T0), () => []);
    const change = async (a: IdempotentAnswer) => {
      const next = { ...t, version: t.version + 1 };
      expect(await s.update(next, t.version, [], a)).toBe(true);
      t = next;
    };
    for (const key of ["a1", "a2", "a3"]) await change(answer(key, "o", T0));
    // A fourth within the hour: refused, nothing written (the row's version did not move).
    const before = t.version;
    const fourth = await change(answer("a4", "o", T0 + 1000)).catch((e: unknown) => e);
    expect(fourth).toBeInstanceOf(HttpError);
    expect(fourth).toMatchObject({ status: 429, code: "limit_exceeded", field: "Idempotency-Key" });
    expect((await s.get(t.id))?.version).toBe(before);
    expect(await s.answer("PUT /timer/1/pause", "a4")).toBeUndefined();
    expect(refused).toBe(1);
    // Another owner is not affected.
    await change(answer("b1", "p", T0 + 1000));
    // Two hours on: the oldest goes to make room, the rest stay.
    await change(answer("a5", "o", T0 + 2 * ANSWER_KEEP_MS));
    const kept = await Promise.all(["a1", "a2", "a3", "a5", "b1"].map(async (k) => (await s.answer("PUT /timer/1/pause", k)) !== undefined));
    expect(kept).toEqual([false, true, true, true, true]);
  });
});

describe.each(MODES)("Idempotency-Key cap over HTTP ($name)", (mode) => {
  let app: Tickwire | undefined;
  let own: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  afterAll(async () => {
    await app?.stop();
    await own?.drop();
  });

  it("answers 429 past IDEMPOTENCY_KEYS_PER_SUB, still replays stored keys, counts the refusal", async () => {
    own = mode.name === "embedded" ? undefined : await ownDatabase("idemcap");
    app = await startServer(timersEnv(mode, uniquePrefix("idemcap"), own?.url, { IDEMPOTENCY_KEYS_PER_SUB: "2" }));
    const post = async (key?: string) => {
      const res = await fetch(`${app!.url}/timer`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(key ? { "Idempotency-Key": key } : {}) },
        body: JSON.stringify({ sessionId: "cap", maxTime: 600 }),
      });
      return { status: res.status, body: (await res.json()) as any, headers: res.headers };
    };
    expect((await post("k1")).status).toBe(201);
    expect((await post("k2")).status).toBe(201);
    const third = await post("k3");
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: "limit_exceeded", field: "Idempotency-Key" });
    expect(third.headers.get("retry-after")).toBe("60");
    const replay = await post("k1");
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await post()).status).toBe(201);
    const list = (await (await fetch(`${app.url}/timers?sessionId=cap`)).json()) as unknown[];
    expect(list).toHaveLength(3);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('tickwire_limit_refusals_total{limit="idempotency_keys_per_sub"} 1');
  });
});
