/**
 * The timer service's contract in both storage modes: every REST route and game master
 * command, bad input (400 naming the field, 404, 409), and the frames customers and game
 * masters receive (durable state changes with a seq on `timers`, `timer:<id>` and
 * `session:<id>`, one ephemeral `TIMER_UPDATE` per tick, a last update then `TIMER_EXPIRE`).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.each(MODES)("timers ($name)", (mode) => {
  let app: Tickwire;
  let http: ReturnType<typeof api>;
  let database: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  const session = uniquePrefix("sess");

  beforeAll(async () => {
    if (mode.name === "mysql+redis") database = await ownDatabase("timers");
    app = await startServer(timersEnv(mode, uniquePrefix("timers"), database?.url));
    http = api(app);
  });
  afterAll(async () => {
    await app.stop();
    await database?.drop();
  });

  it("creates a running timer: 201 with the seed's fields plus status and timestamps", async () => {
    const res = await http.create(session, 30);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      sessionId: session,
      currentTime: 0,
      maxTime: 30,
      isPaused: false,
      status: "running",
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    expect((await http.get(res.body.id)).body).toEqual({ ...res.body, currentTime: expect.any(Number) });
  });

  it("pauses, resumes (both idempotent), modifies and stops, with the seed's stop message", async () => {
    const { body: t } = await http.create(session, 60);
    const paused = await http.pause(t.id);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: t.id, isPaused: true, status: "paused" });
    const again = await http.pause(t.id);
    expect(again).toEqual(paused);

    const resumed = await http.resume(t.id);
    expect(resumed.body).toMatchObject({ id: t.id, isPaused: false, status: "running" });
    expect((await http.resume(t.id)).body).toMatchObject({ status: "running", updatedAt: resumed.body.updatedAt });

    const modified = await http.modify(t.id, 120);
    expect(modified.status).toBe(200);
    expect(modified.body).toMatchObject({ id: t.id, maxTime: 120, status: "running" });

    const stopped = await http.stop(t.id);
    expect(stopped).toEqual({ status: 200, body: { message: "Timer stopped and deleted" } });
    expect((await http.get(t.id)).status).toBe(404);
    expect((await http.stop(t.id)).status).toBe(404);
  });

  it("lists the timers of a session, and all timers without sessionId", async () => {
    const other = uniquePrefix("other");
    const a = (await http.create(other, 10)).body;
    const b = (await http.create(other, 20)).body;
    const listed = await http.list(other);
    expect(listed.status).toBe(200);
    expect(listed.body.map((t: { id: number }) => t.id)).toEqual([a.id, b.id]);
    const all = (await http.list()).body.map((t: { id: number }) => t.id);
    expect(all).toEqual(expect.arrayContaining([a.id, b.id]));
    expect((await http.list(uniquePrefix("none"))).body).toEqual([]);
  });

  it("modify below the current time finishes the timer at once; a finished timer conflicts (409) until stopped", async () => {
    const { body: t } = await http.create(session, 5);
    const gm = wsClient(wsUrl(app, `/ws/gamemaster/${session}`));
    await gm.opened;
    await gm.next((f) => f.type === "TIMER_UPDATE" && f.payload.id === t.id && f.payload.currentTime >= 1, 5_000);
    const finished = await http.modify(t.id, 1);
    expect(finished).toEqual({
      status: 200,
      body: { ...t, currentTime: 1, maxTime: 1, isPaused: true, status: "finished", updatedAt: expect.stringMatching(ISO) },
    });
    const events = await gm.collect(2, (f) => (f.type === "TIMER_MODIFY" || f.type === "TIMER_EXPIRE") && f.payload.id === t.id);
    expect(events.map((f) => f.type)).toEqual(["TIMER_MODIFY", "TIMER_EXPIRE"]);
    for (const op of ["pause", "resume"] as const) {
      const res = await http[op](t.id);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("conflict");
    }
    expect((await http.modify(t.id, 50)).status).toBe(409);
    expect((await http.get(t.id)).body).toMatchObject({ status: "finished" });
    expect((await http.stop(t.id)).status).toBe(200);
    gm.close();
  });

  it("rejects bad input with 400 naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ maxTime: 10 }, "sessionId"],
      [{ sessionId: "", maxTime: 10 }, "sessionId"],
      [{ sessionId: "x".repeat(129), maxTime: 10 }, "sessionId"],
      [{ sessionId: "s" }, "maxTime"],
      [{ sessionId: "s", maxTime: 0 }, "maxTime"],
      [{ sessionId: "s", maxTime: 604_801 }, "maxTime"],
      [{ sessionId: "s", maxTime: 1.5 }, "maxTime"],
      [{ sessionId: "s", maxTime: "10" }, "maxTime"],
      ["not json", "body"],
      [[1, 2], "body"],
    ];
    for (const [body, field] of cases) {
      const res = await http.call("POST", "/timer", body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(res.body.error.field).toBe(field);
      expect(res.body.error.message).toStartWith(`${field}:`);
    }
    const { body: t } = await http.create(session, 10);
    const res = await http.modify(t.id, -3);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe("maxTime");
    expect((await http.call("GET", `/timers?sessionId=${"y".repeat(129)}`)).body.error.field).toBe("sessionId");
    await http.stop(t.id);
  });

  it("answers 404 for unknown and non-numeric ids", async () => {
    for (const id of ["999999999", "abc", "-1", "0", "1.5"]) {
      expect((await http.get(id)).status).toBe(404);
      expect((await http.pause(id)).status).toBe(404);
      expect((await http.modify(id, 10)).status).toBe(404);
      expect((await http.stop(id)).status).toBe(404);
    }
    expect((await http.get("999999999")).body.error.code).toBe("not_found");
  });

  it("delivers state changes as durable frames on timers, timer:<id> and session:<id> with the same seq", async () => {
    const sid = uniquePrefix("frames");
    const gm = wsClient(wsUrl(app, `/ws/gamemaster/${sid}`));
    const customer = wsClient(wsUrl(app, `/ws/customer/${sid}`));
    await Promise.all([gm.opened, customer.opened]);
    const { body: t } = await http.create(sid, 100);
    const single = wsClient(wsUrl(app, `/ws?topics=timer:${t.id}`));
    await single.opened;
    await http.pause(t.id);

    const onGm = await gm.next((f) => f.type === "TIMER_PAUSE" && f.payload.id === t.id);
    const onCustomer = await customer.next((f) => f.type === "TIMER_PAUSE");
    const onTimer = await single.next((f) => f.type === "TIMER_PAUSE");
    expect(onGm).toEqual({
      topic: "timers",
      seq: expect.stringMatching(/^\d+-\d+$/),
      ts: expect.any(Number),
      type: "TIMER_PAUSE",
      payload: { ...t, currentTime: 0, isPaused: true, status: "paused", updatedAt: expect.stringMatching(ISO) },
      epoch: expect.stringMatching(/^[0-9a-f]{8}$/),
      // The outbox row's event id (appends are idempotent by it) and the row's version after the change.
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      version: 2,
    });
    expect(onCustomer).toEqual({ ...onGm, topic: `session:${sid}` });
    expect(onTimer).toEqual({ ...onGm, topic: `timer:${t.id}` });
    expect(await customer.next((f) => f.type === "TIMER_CREATE" || f.type === "TIMER_PAUSE", 100).catch(() => "none")).toBe("none");
    await http.stop(t.id);
    expect((await customer.next((f) => f.type === "TIMER_STOP")).payload.id).toBe(t.id);
    for (const c of [gm, customer, single]) c.close();
  });

  it("sends one ephemeral TIMER_UPDATE per tick while running, none while paused", async () => {
    const sid = uniquePrefix("ticks");
    const customer = wsClient(wsUrl(app, `/ws/customer/${sid}`));
    await customer.opened;
    const { body: t } = await http.create(sid, 100);
    const updates = await customer.collect(3, (f) => f.type === "TIMER_UPDATE");
    for (const u of updates) {
      expect(u).toEqual({
        topic: `session:${sid}`,
        // After the last durable entry on the topic, `<seq>.<k>` (issue #16: one order per topic).
        seq: expect.stringMatching(/^\d+-\d+\.\d+$/),
        ts: expect.any(Number),
        epoch: expect.stringMatching(/^[0-9a-f]{8}$/),
        type: "TIMER_UPDATE",
        payload: { ...t, currentTime: 0 },
      });
    }
    // One per tick: `ts` is the tick's boundary; seqs only increase.
    const ticks = updates.map((u) => u.ts as number);
    expect(ticks[1]! - ticks[0]!).toBe(100);
    expect(ticks[2]! - ticks[1]!).toBe(100);
    expect(updates.map((u) => u.seq)).toEqual([...updates.map((u) => u.seq)].sort(compareSeq));
    await http.pause(t.id);
    await customer.next((f) => f.type === "TIMER_PAUSE");
    const before = customer.frames.length;
    // Two more ticks pass on another timer; the paused one sends nothing.
    const probe = (await http.create(sid, 100)).body;
    await customer.collect(2, (f) => f.type === "TIMER_UPDATE" && f.payload.id === probe.id);
    expect(customer.frames.slice(before).filter((f: any) => f.type === "TIMER_UPDATE" && f.payload.id === t.id)).toEqual([]);
    await http.stop(t.id);
    await http.stop(probe.id);
    customer.close();
  });

  it("finishes at maxTime: a last TIMER_UPDATE at maxTime, then exactly one TIMER_EXPIRE; the timer stays until stopped", async () => {
    const sid = uniquePrefix("expire");
    const customer = wsClient(wsUrl(app, `/ws/customer/${sid}`));
    await customer.opened;
    const { body: t } = await http.create(sid, 1);
    const expired = await customer.next((f) => f.type === "TIMER_EXPIRE", 5_000);
    expect(expired.payload).toEqual({ ...t, currentTime: 1, isPaused: true, status: "finished", updatedAt: expect.stringMatching(ISO) });
    const types = customer.frames.map((f: any) => `${f.type}:${f.payload.currentTime}`);
    const expireAt = types.indexOf("TIMER_EXPIRE:1");
    expect(types[expireAt - 1]).toBe("TIMER_UPDATE:1");
    expect(types.filter((x) => x === "TIMER_UPDATE:1")).toHaveLength(1);
    // More ticks pass (seen on a probe timer): no second expiry, no more updates.
    const probe = (await http.create(sid, 100)).body;
    await customer.collect(3, (f) => f.type === "TIMER_UPDATE" && f.payload.id === probe.id);
    expect(
      customer.frames.filter((f: any) => f.payload?.id === t.id && (f.type === "TIMER_EXPIRE" || f.type === "TIMER_UPDATE") && f.payload.currentTime === 1),
    ).toHaveLength(2);
    expect((await http.get(t.id)).body).toMatchObject({ status: "finished", currentTime: 1 });
    await http.stop(t.id);
    await http.stop(probe.id);
    customer.close();
  });

  it("runs game master commands over WebSocket with acks echoing ref, and errors for bad ones", async () => {
    const sid = uniquePrefix("gm");
    const gm = wsClient(wsUrl(app, `/ws/gamemaster/${sid}`));
    await gm.opened;
    gm.send({ type: "TIMER_CREATE", payload: { sessionId: sid, maxTime: 50 }, ref: "c1" });
    const created = await gm.next((f) => f.op === "ack" && f.ref === "c1");
    expect(created).toEqual({
      op: "ack",
      ref: "c1",
      timer: {
        id: expect.any(Number),
        sessionId: sid,
        currentTime: 0,
        maxTime: 50,
        isPaused: false,
        status: "running",
        createdAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
      },
    });
    const id = created.timer.id;

    gm.send({ type: "TIMER_PAUSE", payload: { id }, ref: 2 });
    expect(await gm.next((f) => f.op === "ack" && f.ref === 2)).toMatchObject({ timer: { id, status: "paused" } });
    gm.send({ type: "TIMER_RESUME", payload: { id } });
    expect(await gm.next((f) => f.op === "ack" && f.ref === undefined)).toMatchObject({ timer: { id, status: "running" } });
    gm.send({ type: "TIMER_MODIFY", payload: { id, maxTime: 70 }, ref: "m" });
    expect(await gm.next((f) => f.op === "ack" && f.ref === "m")).toMatchObject({ timer: { id, maxTime: 70 } });
    const events = await gm.collect(4, (f) => typeof f.type === "string" && f.type !== "TIMER_UPDATE" && f.payload.id === id);
    expect(events.map((f) => f.type)).toEqual(["TIMER_CREATE", "TIMER_PAUSE", "TIMER_RESUME", "TIMER_MODIFY"]);

    gm.send({ type: "TIMER_PAUSE", payload: { id: 999_999_999 }, ref: "nf" });
    expect(await gm.next((f) => f.ref === "nf")).toEqual({ op: "error", code: "not_found", message: expect.any(String), ref: "nf" });
    gm.send({ type: "TIMER_MODIFY", payload: { id, maxTime: 0 }, ref: "bad" });
    const bad = await gm.next((f) => f.ref === "bad");
    expect(bad).toMatchObject({ op: "error", code: "bad_frame" });
    expect(bad.message).toStartWith("payload.maxTime:");
    gm.send({ type: "TIMER_EXPLODE", payload: {}, ref: "u" });
    expect(await gm.next((f) => f.ref === "u")).toMatchObject({ op: "error", code: "unknown_type" });
    gm.send("{not json");
    expect(await gm.next((f) => f.op === "error" && f.code === "bad_frame" && f.ref === undefined)).toMatchObject({ message: "frame is not valid JSON" });

    gm.send({ type: "TIMER_STOP", payload: { id }, ref: "s" });
    expect(await gm.next((f) => f.op === "ack" && f.ref === "s")).toMatchObject({ timer: { id } });
    await gm.collect(1, (f) => f.type === "TIMER_STOP" && f.payload.id === id);
    gm.send({ type: "TIMER_RESUME", payload: { id }, ref: "gone" });
    expect(await gm.next((f) => f.ref === "gone")).toMatchObject({ op: "error", code: "not_found" });
    gm.close();
  });

  it("answers 409 over WebSocket for an impossible transition", async () => {
    const sid = uniquePrefix("gm409");
    const gm = wsClient(wsUrl(app, `/ws/gamemaster/${sid}`));
    await gm.opened;
    const { body: t } = await http.create(sid, 1);
    await gm.next((f) => f.type === "TIMER_EXPIRE" && f.payload.id === t.id, 5_000);
    gm.send({ type: "TIMER_RESUME", payload: { id: t.id }, ref: "r" });
    expect(await gm.next((f) => f.ref === "r")).toMatchObject({ op: "error", code: "conflict" });
    await http.stop(t.id);
    gm.close();
  });

  it("closes a game master socket that floods malformed frames with 1008", async () => {
    const gm = wsClient(wsUrl(app, `/ws/gamemaster/flood`));
    await gm.opened;
    for (let i = 0; i < 12; i++) gm.send({ type: "NOPE" });
    expect((await gm.closed).code).toBe(1008);
  });

  it("replays state changes after ?since= on the customer socket, then goes live", async () => {
    const sid = uniquePrefix("since");
    const first = wsClient(wsUrl(app, `/ws/customer/${sid}`));
    await first.opened;
    const { body: t } = await http.create(sid, 100);
    const created = await first.next((f) => f.type === "TIMER_CREATE");
    await http.pause(t.id);
    await http.resume(t.id);
    await first.next((f) => f.type === "TIMER_RESUME");
    first.close();

    const again = wsClient(wsUrl(app, `/ws/customer/${sid}?since=${created.seq}`));
    await again.opened;
    const replayed = await again.collect(2, (f) => f.type === "TIMER_PAUSE" || f.type === "TIMER_RESUME");
    expect(replayed.map((f) => f.type)).toEqual(["TIMER_PAUSE", "TIMER_RESUME"]);
    expect(again.frames.filter((f: any) => f.type === "TIMER_CREATE")).toEqual([]);
    await http.stop(t.id);
    expect((await again.next((f) => f.type === "TIMER_STOP")).payload.id).toBe(t.id);
    again.close();
  });

  it("reports the database in /health", async () => {
    const res = await fetch(`${app.url}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).checks.db).toBe("up");
  });
});
