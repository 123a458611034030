/**
 * Issue 17, timer limits: `TIMERS_PER_SESSION` timers per session and `TIMERS_MAX` in all, in
 * both storage modes. A create past either (`POST /timer`, the game master's `TIMER_CREATE`) is
 * refused with 429 `limit_exceeded` + `Retry-After` (an error frame on the socket), counted in
 * `/metrics` by limit; other sessions still create; stopping a timer makes room; concurrent
 * creates (30 at once, limit 10) leave exactly the limit, also split over two instances sharing
 * MySQL; a retry of a create that committed under its `Idempotency-Key` gets its answer, not 429.
 *
 * Every test starts on empty storage: an in-memory SQLite per server, or a MySQL database of
 * its own (the machine's shared `test` database holds other files' timers).
 */
import { afterAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

async function refusals(app: Tickwire, limit: "timers_per_session" | "timers_total"): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`tickwire_limit_refusals_total{limit="${limit}"}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

async function post(app: Tickwire, sessionId: string, key?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${app.url}/timer`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(key ? { "Idempotency-Key": key } : {}) },
    body: JSON.stringify({ sessionId, maxTime: 600 }),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

const statuses = (replies: { status: number }[]) => replies.map((r) => r.status).sort();

describe.each(MODES)("timer limits ($name)", (mode) => {
  const apps: Tickwire[] = [];
  const databases: Awaited<ReturnType<typeof ownDatabase>>[] = [];

  /** Environment for servers on fresh storage of this mode (shared by all servers given it). */
  async function freshEnv(limits: { perSession: number; total: number }): Promise<Record<string, string>> {
    const database = mode.name === "mysql+redis" ? await ownDatabase("limits") : undefined;
    if (database) databases.push(database);
    return timersEnv(mode, uniquePrefix("limits"), database?.url, { TIMERS_PER_SESSION: String(limits.perSession), TIMERS_MAX: String(limits.total) });
  }
  async function start(env: Record<string, string>): Promise<Tickwire> {
    const app = await startServer(env);
    apps.push(app);
    return app;
  }

  afterAll(async () => {
    for (const app of apps) await app.stop();
    for (const database of databases) await database.drop();
  });

  it("refuses a session's timer past TIMERS_PER_SESSION with 429, counts it; other sessions still create; a stop makes room", async () => {
    const app = await start(await freshEnv({ perSession: 3, total: 1000 }));
    const http = api(app);
    const full = uniquePrefix("full");
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await post(app, full);
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const before = await refusals(app, "timers_per_session");
    const refused = await post(app, full);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: "limit_exceeded", message: expect.stringContaining("TIMERS_PER_SESSION"), field: "sessionId" } });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refusals(app, "timers_per_session")).toBe(before + 1);
    expect(await refusals(app, "timers_total")).toBe(0);
    expect((await http.list(full)).body).toHaveLength(3);

    // Another session is not affected by this one's limit.
    const other = uniquePrefix("other");
    expect((await post(app, other)).status).toBe(201);

    // Stopping one makes room for exactly one.
    expect((await http.stop(ids[0]!)).status).toBe(200);
    expect((await post(app, full)).status).toBe(201);
    expect((await post(app, full)).status).toBe(429);
    expect(await refusals(app, "timers_per_session")).toBe(before + 2);
  });

  it("refuses any timer past TIMERS_MAX in all, without a field; a stop makes room", async () => {
    const app = await start(await freshEnv({ perSession: 100, total: 4 }));
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await post(app, uniquePrefix(`s${i}`));
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const refused = await post(app, uniquePrefix("late"));
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: "limit_exceeded", message: expect.stringContaining("TIMERS_MAX") } });
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await refusals(app, "timers_total")).toBe(1);
    expect(await refusals(app, "timers_per_session")).toBe(0);

    expect((await api(app).stop(ids[1]!)).status).toBe(200);
    expect((await post(app, uniquePrefix("late"))).status).toBe(201);
    expect((await post(app, uniquePrefix("later"))).status).toBe(429);
  });

  it("30 concurrent creates in one session with a limit of 10 leave exactly 10 (and the same for the total)", async () => {
    const app = await start(await freshEnv({ perSession: 10, total: 25 }));
    const session = uniquePrefix("rush");
    const rush = await Promise.all(Array.from({ length: 30 }, () => post(app, session)));
    expect(statuses(rush)).toEqual([...Array(10).fill(201), ...Array(20).fill(429)]);
    expect((await api(app).list(session)).body).toHaveLength(10);
    expect(await refusals(app, "timers_per_session")).toBe(20);

    // 10 exist; 30 at once in 30 sessions against a total of 25: exactly 15 more.
    const spread = await Promise.all(Array.from({ length: 30 }, (_, i) => post(app, uniquePrefix(`spread${i}`))));
    expect(statuses(spread)).toEqual([...Array(15).fill(201), ...Array(15).fill(429)]);
    expect((await api(app).list()).body).toHaveLength(25);
    expect(await refusals(app, "timers_total")).toBe(15);
  });

  it("answers a create retried with its Idempotency-Key with the original 201, also when the session is full", async () => {
    const app = await start(await freshEnv({ perSession: 1, total: 1000 }));
    const session = uniquePrefix("idem");
    const key = crypto.randomUUID();
    const first = await post(app, session, key);
    expect(first.status).toBe(201);
    const retry = await post(app, session, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
    expect((await post(app, session)).status).toBe(429);

    // Concurrent requests with one key on an empty session: one creates, all get its answer.
    const other = uniquePrefix("idem-race");
    const raceKey = crypto.randomUUID();
    const race = await Promise.all(Array.from({ length: 8 }, () => post(app, other, raceKey)));
    expect(statuses(race)).toEqual(Array(8).fill(201));
    expect(new Set(race.map((r) => r.body.id)).size).toBe(1);
    expect((await api(app).list(other)).body).toHaveLength(1);
    expect(await refusals(app, "timers_per_session")).toBe(1);
  });

  it("answers a game master's TIMER_CREATE past the limit with an error frame limit_exceeded carrying its ref", async () => {
    const app = await start(await freshEnv({ perSession: 2, total: 1000 }));
    const session = uniquePrefix("gm");
    const gm = wsClient(wsUrl(app, `/ws/gamemaster/${session}`));
    await gm.opened;
    for (const ref of ["a", "b"]) {
      gm.send({ type: "TIMER_CREATE", payload: { sessionId: session, maxTime: 60 }, ref });
      expect(await gm.next((f) => f.ref === ref)).toMatchObject({ op: "ack", ref, timer: { sessionId: session } });
    }
    gm.send({ type: "TIMER_CREATE", payload: { sessionId: session, maxTime: 60 }, ref: "c" });
    const error = await gm.next((f) => f.ref === "c");
    expect(error).toEqual({ op: "error", code: "limit_exceeded", message: expect.stringContaining("TIMERS_PER_SESSION"), ref: "c" });
    expect(await refusals(app, "timers_per_session")).toBe(1);
    // The socket stays usable: after a stop, the next create is acknowledged.
    const [one] = (await api(app).list(session)).body;
    gm.send({ type: "TIMER_STOP", payload: { id: one.id }, ref: "d" });
    expect(await gm.next((f) => f.ref === "d")).toMatchObject({ op: "ack" });
    gm.send({ type: "TIMER_CREATE", payload: { sessionId: session, maxTime: 60 }, ref: "e" });
    expect(await gm.next((f) => f.ref === "e")).toMatchObject({ op: "ack", ref: "e" });
    gm.close();
  });

  it.if(mode.name === "mysql+redis")("two instances sharing MySQL keep both limits across them under concurrent creates", async () => {
    const env = await freshEnv({ perSession: 6, total: 14 });
    const [a, b] = [await start(env), await start(env)];
    const session = uniquePrefix("pair");
    const rush = await Promise.all(Array.from({ length: 30 }, (_, i) => post(i % 2 ? a : b, session)));
    expect(statuses(rush)).toEqual([...Array(6).fill(201), ...Array(24).fill(429)]);
    expect((await refusals(a, "timers_per_session")) + (await refusals(b, "timers_per_session"))).toBe(24);

    // 6 exist; 30 more in 30 sessions over both against a total of 14: exactly 8 more.
    const spread = await Promise.all(Array.from({ length: 30 }, (_, i) => post(i % 2 ? a : b, uniquePrefix(`pair${i}`))));
    expect(statuses(spread)).toEqual([...Array(8).fill(201), ...Array(22).fill(429)]);
    expect((await refusals(a, "timers_total")) + (await refusals(b, "timers_total"))).toBe(22);
    // Each instance follows the other's creates: both come to list the 14 the database holds.
    for (const app of [a, b]) {
      await until(async () => (await api(app).list()).body.length === 14, { message: "both instances to list 14 timers" });
    }
  });
});
