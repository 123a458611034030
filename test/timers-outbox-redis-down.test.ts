/**
 * Timer changes while Redis is down (issue #15), on a DEDICATED redis-server with an append-only
 * file (so what it acknowledged survives its `kill -9`; the shared Redis is never touched) and a
 * MySQL database of its own. Changes keep committing (2xx) while Redis is gone; their events wait
 * in the outbox and go out, in commit order, once Redis is back.
 *
 * A customer socket stays connected through it all and must receive every answered change's
 * event exactly once, in the order the changes were answered, per timer; a customer connecting
 * later with `?since=` gets the same sequence from the log; and a second instance started
 * afterwards shows each timer as the database has it.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createConnection } from "mysql2/promise";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { type ChildServer, MODES, REDIS_URL, spawnServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, type Reply, timersEnv, uniquePrefix } from "./timers-support.ts";

const mode = MODES.find((m) => m.name === "mysql+redis")!;

/** A change as answered: the event it must produce and the timer the reply showed. */
interface Answered {
  type: string;
  timer: any;
}

/** What an event and the answer it stands for must agree on. */
const project = (type: string, t: any) => ({ type, id: t.id, maxTime: t.maxTime, isPaused: t.isPaused, status: t.status });

const isDurable = (f: any) => typeof f?.type === "string" && f.type !== "TIMER_UPDATE" && typeof f.seq === "string";

const health = async (server: { url: string }) => {
  const res = await fetch(`${server.url}/health`);
  return { status: res.status, body: (await res.json()) as any };
};

/** A sample of `name` from `server`'s /metrics; undefined when there is none. */
async function metric(server: { url: string }, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

describe("timer events while Redis is down (dedicated persistent redis-server + MySQL)", () => {
  const redis = new DedicatedRedis(freePort(), { persistent: true });
  const children: ChildServer[] = [];
  let database: Awaited<ReturnType<typeof ownDatabase>>;
  let env: Record<string, string>;
  let server: ChildServer;
  let customer: WsTestClient;
  const session = uniquePrefix("rd");
  const answered: Answered[] = [];
  const ids: number[] = [];

  beforeAll(async () => {
    expect(redis.url).not.toBe(REDIS_URL);
    await redis.start();
    database = await ownDatabase("outbox_redis");
    env = timersEnv(mode, uniquePrefix("ord"), database.url, { REDIS_URL: redis.url });
    server = await spawnServer(env);
    children.push(server);
    customer = wsClient(wsUrl(server, `/ws/customer/${session}`));
    await customer.opened;
  });
  afterAll(async () => {
    customer?.close();
    for (const c of children) c.proc.kill(9);
    await Promise.all(children.map((c) => c.exited));
    await redis.dispose();
    await database?.drop();
  });

  /** Makes a change, which must answer 2xx, and records the event it must produce. */
  const change = async (type: string, call: Promise<Reply>) => {
    const reply = await call;
    const status = reply.status >= 200 && reply.status < 300 ? "2xx" : reply.status;
    expect({ type, status, body: reply.body }).toMatchObject({ type, status: "2xx" });
    answered.push({ type, timer: reply.body });
    return reply.body;
  };
  const timerFrames = (c: WsTestClient) => (c.frames as any[]).filter((f) => isDurable(f) && ids.includes(f.payload?.id));

  it("commits changes while Redis is up and while it is killed, answering each 2xx", async () => {
    const http = api(server);
    for (let i = 0; i < 3; i++) ids.push((await change("TIMER_CREATE", http.create(session, 600))).id);
    const [t1, t2, t3] = ids as [number, number, number];
    await change("TIMER_PAUSE", http.pause(t1));
    await change("TIMER_MODIFY", http.modify(t2, 700));
    await change("TIMER_PAUSE", http.pause(t3));
    await change("TIMER_RESUME", http.resume(t3));
    await change("TIMER_MODIFY", http.modify(t1, 650));
    // Redis is up: these reach the customer now.
    await customer.collect(answered.length, (f) => isDurable(f) && ids.includes(f.payload?.id));

    await redis.kill();
    await until(async () => (await health(server)).body.checks.redis === "down", { message: "/health to report redis down" });
    await change("TIMER_RESUME", http.resume(t1));
    await change("TIMER_PAUSE", http.pause(t2));
    await change("TIMER_MODIFY", http.modify(t3, 800));
    await change("TIMER_PAUSE", http.pause(t1));
    await change("TIMER_MODIFY", http.modify(t2, 750));
    await change("TIMER_PAUSE", http.pause(t3));
    await change("TIMER_RESUME", http.resume(t2));
    await change("TIMER_MODIFY", http.modify(t1, 900));
    // Committed, not yet published: they wait in the outbox.
    const depth = await metric(server, "tickwire_timer_outbox_depth");
    expect({ outboxDepth: typeof depth === "number" && depth > 0 ? "> 0" : depth }).toEqual({ outboxDepth: "> 0" });
  }, 30_000);

  it("delivers every answered change's event once, in answer order per timer, once Redis is back", async () => {
    // (Still running only when the test before failed early.)
    if (!redis.proc) await redis.start();
    await until(async () => (await health(server)).status === 200, { message: "/health to be 200 with redis back", timeoutMs: 15_000 });
    // Wait for all of them and an empty outbox; if that never happens, the assertions below say what is missing.
    await until(async () => timerFrames(customer).length >= answered.length && (await metric(server, "tickwire_timer_outbox_depth")) === 0, {
      timeoutMs: 5_000,
    }).catch(() => {});
    // Committed after everything above and published in commit order: anything published again
    // for the earlier changes would arrive before its TIMER_CREATE.
    const probe = (await api(server).create(session, 600)).body;
    await customer.next((f) => f.type === "TIMER_CREATE" && f.payload.id === probe.id);

    for (const id of ids) {
      const expected = answered.filter((a) => a.timer.id === id).map((a) => project(a.type, a.timer));
      const got = timerFrames(customer)
        .filter((f) => f.payload.id === id)
        .map((f) => project(f.type, f.payload));
      expect({ timer: id, events: got }).toEqual({ timer: id, events: expected });
    }
    // Each event carries its id and the row's version after the change: one version step per change.
    for (const id of ids) {
      const frames = timerFrames(customer).filter((f) => f.payload.id === id);
      // (Checked by hand: toMatchObject with expect.any() would write the matchers into the frames.)
      expect(frames.filter((f) => typeof f.eventId !== "string" || typeof f.version !== "number")).toEqual([]);
      const versions = frames.map((f) => f.version);
      expect(versions).toEqual(versions.map((_, i) => versions[0] + i));
    }
    const eventIds = timerFrames(customer).map((f) => f.eventId);
    expect(new Set(eventIds).size).toBe(eventIds.length);
    // The outbox is empty again, and the appends refused while Redis was down were counted.
    expect({
      depth: await metric(server, "tickwire_timer_outbox_depth"),
      oldest: await metric(server, "tickwire_timer_outbox_oldest_seconds"),
      retried: ((await metric(server, "tickwire_timer_outbox_publish_retries_total")) ?? 0) > 0,
    }).toEqual({ depth: 0, oldest: 0, retried: true });
  }, 30_000);

  it("replays the same sequence to a customer connecting later with ?since=<first seq>", async () => {
    const frames = (customer.frames as any[]).filter(isDurable);
    const first = frames[0];
    expect(first).toMatchObject({ type: "TIMER_CREATE", payload: { id: ids[0] } });
    const later = wsClient(wsUrl(server, `/ws/customer/${session}?since=${encodeURIComponent(first.seq)}`));
    await later.opened;
    const replayed = await later.collect(frames.length - 1, isDurable);
    const key = (f: any) => ({ seq: f.seq, eventId: f.eventId, version: f.version, ...project(f.type, f.payload) });
    expect(replayed.map(key)).toEqual(frames.slice(1).map(key));
    // And that is every answered change but the first, per timer in answer order.
    for (const id of ids) {
      const expected = answered
        .slice(1)
        .filter((a) => a.timer.id === id)
        .map((a) => project(a.type, a.timer));
      const got = replayed.filter((f) => f.payload?.id === id).map((f) => project(f.type, f.payload));
      expect({ timer: id, events: got }).toEqual({ timer: id, events: expected });
    }
    later.close();
  }, 30_000);

  it("shows each timer as the database has it on a second instance started afterwards", async () => {
    const second = await spawnServer(env);
    children.push(second);
    const conn = await createConnection(database.url);
    try {
      const [rows] = await conn.query(`SELECT id, status, max_time, accumulated_ms FROM timers WHERE id IN (${ids.join(",")}) ORDER BY id`);
      const fromDb = (rows as any[]).map((r) => ({
        id: r.id,
        status: r.status,
        maxTime: r.max_time,
        isPaused: r.status !== "running",
        ...(r.status === "running" ? {} : { currentTime: Math.min(r.max_time, Math.floor(Number(r.accumulated_ms) / 1000)) }),
      }));
      expect(fromDb).toHaveLength(ids.length);
      for (const instance of [server, second]) {
        const shown = await Promise.all(ids.map(async (id) => (await api(instance).get(id)).body));
        expect(
          shown.map((t, i) => ({
            id: t.id,
            status: t.status,
            maxTime: t.maxTime,
            isPaused: t.isPaused,
            ...("currentTime" in fromDb[i]! ? { currentTime: t.currentTime } : {}),
          })),
        ).toEqual(fromDb);
      }
    } finally {
      await conn.end();
    }
  }, 30_000);
});
