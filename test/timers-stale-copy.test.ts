/**
 * A timer change that changes nothing ("unchanged": resume a running timer, pause a paused one)
 * writes nothing, so its 2xx must rest on the database's current version, never on a
 * stale copy (found in review, /tmp/h/rev-f): otherwise the change is acknowledged and never made.
 *
 * - Two instances, Redis down: A's change commits (its event waits in the outbox), B still holds
 *   the old state and used to answer the opposite change 200 from it, writing nothing.
 * - One instance, MariaDB SIGSTOPped: a pause answers 504 `outcome_unknown`, and the resume after
 *   it used to be answered 200 from the hot state's pre-pause copy. The pause's connection is
 *   destroyed when it is given up, so on SIGCONT the server rolls it back (had its COMMIT been
 *   sent, it would commit): the instance then shows what the database holds, either way.
 *
 * Faults only on DEDICATED redis-server / mariadbd instances (ports 27100-27199).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { DedicatedMariaDb } from "./support/dedicated-mariadb.ts";
import { DedicatedRedis } from "./support/dedicated-redis.ts";
import { startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api } from "./timers-support.ts";

type Row = { status: string; version: number; max_time: number };

const isDurable = (f: any) => typeof f?.type === "string" && f.type !== "TIMER_UPDATE" && typeof f.version === "number";
const healthy = (s: { url: string }) => until(async () => (await fetch(`${s.url}/health`)).status === 200, { message: "/health 200", timeoutMs: 15_000 });

/** The row in the database, once `customer` has the event of its version; and the events it got for `id`. */
async function settled(maria: DedicatedMariaDb, customer: WsTestClient, id: number) {
  const [row] = await maria.query<Row>("SELECT status, version, max_time FROM timers WHERE id = ?", [id]);
  await customer.collect(1, (f) => isDurable(f) && f.payload?.id === id && f.version === row!.version, 15_000);
  const events = (customer.frames as any[]).filter((f) => isDurable(f) && f.payload?.id === id);
  return { row: row!, events: events.map((f) => f.type), versions: events.map((f) => f.version) };
}

describe("two instances (MariaDB + Redis): a change on B while B's copy is stale", () => {
  const redis = new DedicatedRedis(27101, { persistent: true });
  const maria = new DedicatedMariaDb(27102);
  let a: Tickwire;
  let b: Tickwire;
  let customer: WsTestClient;
  const session = uniquePrefix("stale");

  beforeAll(async () => {
    await redis.start();
    await maria.start();
    const env = { DATABASE_URL: maria.url, REDIS_URL: redis.url, STREAM_PREFIX: uniquePrefix("stale"), TICK_MS: "100" };
    a = await startServer(env);
    b = await startServer(env);
    customer = wsClient(wsUrl(b, `/ws/customer/${session}`));
    await customer.opened;
  }, 60_000);
  afterAll(async () => {
    customer?.close();
    await a?.stop();
    await b?.stop();
    await redis.dispose();
    await maria.dispose();
  });

  /** A timer both instances hold as `status` (B learns it from the log). */
  async function heldByBoth(status: "running" | "paused"): Promise<number> {
    const id = (await api(a).create(session, 600)).body.id as number;
    if (status === "paused") expect((await api(a).pause(id)).status).toBe(200);
    await customer.collect(1, (f) => isDurable(f) && f.payload?.id === id && f.payload.status === status);
    for (const s of [a, b]) await until(async () => (await api(s).get(id)).body.status === status, { message: `${status} on both` });
    return id;
  }

  /** Runs `changes` with Redis killed (so B hears nothing of A's changes), then brings Redis back. */
  async function redisDown(changes: () => Promise<void>): Promise<void> {
    await redis.kill();
    await until(async () => (await fetch(`${a.url}/health`)).status === 503, { message: "A to see redis down" });
    try {
      await changes();
    } finally {
      await redis.start();
    }
    for (const s of [a, b]) await healthy(s);
  }

  it("a resume on B after A's pause is carried out, not answered from B's copy", async () => {
    const id = await heldByBoth("running");
    let paused: any;
    let resumed: any;
    await redisDown(async () => {
      paused = await api(a).pause(id);
      resumed = await api(b).resume(id);
    });
    expect([paused.status, paused.body.status, resumed.status, resumed.body.status]).toEqual([200, "paused", 200, "running"]);
    const { row, events } = await settled(maria, customer, id);
    // The last acknowledged change is the resume: the database, the events and both instances say so.
    expect({ status: row.status, version: row.version, events }).toEqual({
      status: "running",
      version: 3,
      events: ["TIMER_CREATE", "TIMER_PAUSE", "TIMER_RESUME"],
    });
    for (const s of [a, b]) await until(async () => (await api(s).get(id)).body.status === "running", { message: "running on both" });
  }, 60_000);

  it("a pause and a modify on B after A's resume and modify are carried out too", async () => {
    const p = await heldByBoth("paused");
    const m = await heldByBoth("running");
    const answers: any[] = [];
    await redisDown(async () => {
      answers.push(await api(a).resume(p), await api(a).modify(m, 900));
      // B still holds p paused (a pause used to be a no-op answered 200 from that copy) and m at
      // 600 (a modify always writes: its conditional write already caught the stale copy).
      answers.push(await api(b).pause(p), await api(b).modify(m, 600));
    });
    expect(answers.map((r) => [r.status, r.body.status, r.body.maxTime])).toEqual([
      [200, "running", 600],
      [200, "running", 900],
      [200, "paused", 600],
      [200, "running", 600],
    ]);
    const sp = await settled(maria, customer, p);
    expect({ status: sp.row.status, events: sp.events }).toEqual({ status: "paused", events: ["TIMER_CREATE", "TIMER_PAUSE", "TIMER_RESUME", "TIMER_PAUSE"] });
    const sm = await settled(maria, customer, m);
    expect({ maxTime: sm.row.max_time, events: sm.events }).toEqual({ maxTime: 600, events: ["TIMER_CREATE", "TIMER_MODIFY", "TIMER_MODIFY"] });
  }, 60_000);

  it("a real no-op (B's copy is current) still writes nothing: no event, no new version", async () => {
    const id = await heldByBoth("running");
    const resumed = await api(b).resume(id);
    const idle = await heldByBoth("paused");
    const paused = await api(b).pause(idle);
    expect([resumed.status, resumed.body.status, paused.status, paused.body.status]).toEqual([200, "running", 200, "paused"]);
    // A probe created after them on B: had the no-ops appended anything, it would come first.
    const probe = (await api(b).create(session, 600)).body.id;
    await customer.collect(1, (f) => f.type === "TIMER_CREATE" && f.payload?.id === probe);
    const rows = await maria.query<Row>("SELECT status, version, max_time FROM timers WHERE id IN (?, ?) ORDER BY id", [id, idle]);
    const events = (t: number) => (customer.frames as any[]).filter((f) => isDurable(f) && f.payload?.id === t).map((f) => f.type);
    expect({ versions: rows.map((r) => r.version), running: events(id), paused: events(idle) }).toEqual({
      versions: [1, 2],
      running: ["TIMER_CREATE"],
      paused: ["TIMER_CREATE", "TIMER_PAUSE"],
    });
  }, 60_000);
});

describe("one instance (MariaDB SIGSTOPped): a change after an unknown outcome", () => {
  const redis = new DedicatedRedis(27103, { persistent: true });
  const maria = new DedicatedMariaDb(27104);
  let a: Tickwire;
  beforeAll(async () => {
    await redis.start();
    await maria.start();
    const env = { DATABASE_URL: maria.url, REDIS_URL: redis.url, STREAM_PREFIX: uniquePrefix("stale1"), TICK_MS: "100", DB_QUERY_TIMEOUT_MS: "1000" };
    a = await startServer(env);
  }, 60_000);
  afterAll(async () => {
    maria.cont();
    await a?.stop();
    await redis.dispose();
    await maria.dispose();
  });

  it("is not answered from the hot state's pre-change copy", async () => {
    const session = uniquePrefix("s");
    const customer = wsClient(wsUrl(a, `/ws/customer/${session}`));
    await customer.opened;
    try {
      const id = (await api(a).create(session, 600)).body.id as number;
      await customer.collect(1, (f) => f.type === "TIMER_CREATE" && f.payload?.id === id);
      // Open pool connections first (reads of timers no one holds): a pause that found none free
      // when the server stopped would wait for a connect and never be sent (503, not unknown).
      await Promise.all(Array.from({ length: 10 }, (_, i) => api(a).get(900_000 + i)));
      maria.stop();
      let paused: any;
      let resumed: any;
      let shown: any;
      try {
        paused = await api(a).pause(id);
        resumed = await api(a).resume(id);
        shown = await api(a).get(id);
      } finally {
        maria.cont();
      }
      expect([paused.status, paused.body.error?.code]).toEqual([504, "outcome_unknown"]);
      // The database did not answer: refused like a real change, not 200 "running" from Redis.
      expect({ status: resumed.status, refused: resumed.status === 503 || resumed.status === 504 }).toMatchObject({ refused: true });
      // Nor does a read show the pre-pause copy while the pause may still commit.
      expect({ status: shown.status, body: shown.status === 503 ? "(refused)" : shown.body }).toEqual({ status: 503, body: "(refused)" });
      await healthy(a);
      // The pause committed on SIGCONT or was rolled back; a resume now is carried out (or
      // confirms the running timer) from what the database holds.
      const { row } = await settled(maria, customer, id);
      expect([
        { status: "paused", version: 2 },
        { status: "running", version: 1 },
      ]).toContainEqual({ status: row.status, version: row.version });
      const again = await until(
        async () => {
          const r = await api(a).resume(id);
          return r.status !== 503 && r;
        },
        { message: "the resume to be answered once the timer's state is settled" },
      );
      expect([again.status, again.body.status]).toEqual([200, "running"]);
      const done = await settled(maria, customer, id);
      const events = row.status === "paused" ? ["TIMER_CREATE", "TIMER_PAUSE", "TIMER_RESUME"] : ["TIMER_CREATE"];
      expect({ status: done.row.status, events: done.events }).toEqual({ status: "running", events });
    } finally {
      customer.close();
    }
  }, 60_000);
});
