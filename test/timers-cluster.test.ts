/**
 * Two instances sharing MySQL and Redis act as one timer service: a change made on one reaches
 * the clients of the other within a tick, each instance ticks timers created on the other, and
 * every timer expires exactly once (the expiry write is conditional on the row's version).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

const mode = MODES.find((m) => m.name === "mysql+redis")!;
const TICK_MS = 100;

describe("timers on two instances (mysql+redis)", () => {
  let a: Tickwire;
  let b: Tickwire;
  let database: Awaited<ReturnType<typeof ownDatabase>>;
  let gmA: WsTestClient;
  let gmB: WsTestClient;

  beforeAll(async () => {
    database = await ownDatabase("cluster");
    const env = timersEnv(mode, uniquePrefix("cluster"), database.url, { TICK_MS: String(TICK_MS) });
    a = await startServer(env);
    b = await startServer(env);
    gmA = wsClient(wsUrl(a, "/ws/gamemaster/gm-a"));
    gmB = wsClient(wsUrl(b, "/ws/gamemaster/gm-b"));
    await Promise.all([gmA.opened, gmB.opened]);
  });
  afterAll(async () => {
    gmA?.close();
    gmB?.close();
    await a?.stop();
    await b?.stop();
    await database?.drop();
  });

  it("delivers a change made on one instance to clients of the other, with the same seq", async () => {
    const session = uniquePrefix("x");
    const customerB = wsClient(wsUrl(b, `/ws/customer/${session}`));
    await customerB.opened;
    const created = await api(a).create(session, 600);
    const t = created.body;
    const started = Date.now();
    const onB = await customerB.next((f) => f.type === "TIMER_CREATE" && f.payload.id === t.id, 2_000);
    expect(Date.now() - started).toBeLessThan(TICK_MS * 5);
    const onA = await gmA.collect(1, (f) => f.type === "TIMER_CREATE" && f.payload.id === t.id);
    expect(onB).toEqual({ ...onA[0], topic: `session:${session}` });

    // B ticks the timer A created, and serves it over REST.
    await customerB.next((f) => f.type === "TIMER_UPDATE" && f.payload.id === t.id);
    expect((await api(b).get(t.id)).body).toMatchObject({ id: t.id, status: "running" });

    // A change on B reaches A's clients; B's pause stops both instances' updates.
    expect((await api(b).pause(t.id)).body.status).toBe("paused");
    await gmA.collect(1, (f) => f.type === "TIMER_PAUSE" && f.payload.id === t.id);
    const updatesAfter = (c: WsTestClient, since: number) =>
      c.frames.slice(since).filter((f: any) => f.type === "TIMER_UPDATE" && f.payload.id === t.id && f.payload.isPaused === false);
    const markA = gmA.frames.length;
    const markB = gmB.frames.length;
    const probe = (await api(a).create(session, 600)).body;
    await gmA.collect(3, (f) => f.type === "TIMER_UPDATE" && f.payload.id === probe.id);
    await gmB.collect(3, (f) => f.type === "TIMER_UPDATE" && f.payload.id === probe.id);
    // At most one update already in flight when the pause landed.
    expect(updatesAfter(gmA, markA).length).toBeLessThanOrEqual(1);
    expect(updatesAfter(gmB, markB).length).toBeLessThanOrEqual(1);

    expect((await api(a).stop(t.id)).status).toBe(200);
    await customerB.next((f) => f.type === "TIMER_STOP" && f.payload.id === t.id);
    expect((await api(b).get(t.id)).status).toBe(404);
    await api(b).stop(probe.id);
    customerB.close();
  });

  it("expires each timer exactly once across both instances", async () => {
    const session = uniquePrefix("exp");
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push((await api(i % 2 ? a : b).create(session, 1)).body.id);
    for (const gm of [gmA, gmB]) {
      for (const id of ids) await gm.collect(1, (f) => f.type === "TIMER_EXPIRE" && f.payload.id === id, 5_000);
    }
    // Several more ticks on both instances, seen through a probe timer.
    const probe = (await api(a).create(session, 600)).body;
    await gmA.collect(5, (f) => f.type === "TIMER_UPDATE" && f.payload.id === probe.id);
    await gmB.collect(5, (f) => f.type === "TIMER_UPDATE" && f.payload.id === probe.id);
    for (const gm of [gmA, gmB]) {
      for (const id of ids) expect(gm.frames.filter((f: any) => f.type === "TIMER_EXPIRE" && f.payload.id === id)).toHaveLength(1);
    }
    for (const id of ids) expect((await api(b).get(id)).body).toMatchObject({ status: "finished", currentTime: 1 });
    await api(a).stop(probe.id);
  });

  it("resolves concurrent pauses from both instances into one change", async () => {
    const t = (await api(a).create(uniquePrefix("race"), 600)).body;
    await gmB.collect(1, (f) => f.type === "TIMER_CREATE" && f.payload.id === t.id);
    const results = await Promise.all([api(a).pause(t.id), api(b).pause(t.id), api(a).pause(t.id), api(b).pause(t.id)]);
    for (const r of results) expect(r.body).toMatchObject({ status: "paused" });
    const probe = (await api(a).create(uniquePrefix("race"), 600)).body;
    await gmA.collect(2, (f) => f.type === "TIMER_UPDATE" && f.payload.id === probe.id);
    expect(gmA.frames.filter((f: any) => f.type === "TIMER_PAUSE" && f.payload.id === t.id)).toHaveLength(1);
    await api(a).stop(t.id);
    await api(a).stop(probe.id);
  });
});
