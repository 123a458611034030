/**
 * Issue 16, offsets that never lie, across a Redis restart (a DEDICATED redis-server on its own
 * port; the machine's shared Redis is never touched):
 * - a Redis that comes back EMPTY (no persistence) is a new epoch: resuming from a seq of the
 *   old history, by SSE `Last-Event-ID`, `/ws?topics=chat&since=`, the in-band `subscribe` op or
 *   `GET /messages?since=`, is told `recovered:false` first (the acknowledged messages are gone),
 *   and every instance's live subscribers are closed (WS 4008, SSE `event: overflow`) so that
 *   they resume and learn it too;
 * - the control: a PERSISTENT Redis (AOF, fsync always) comes back with its history and its
 *   epoch, and every message is delivered exactly once, with no `recovered:false` anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { REDIS_URL, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { type SseTestClient, sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

// Response bodies are checked by the assertions; typed loosely on purpose.
const anyJson = (v: unknown): any => v;

const EPOCH = /^[0-9a-f]{8}$/;
const NOT_RECOVERED = { op: "recovered", topic: "chat", recovered: false };

const isChat = (f: any) => f?.topic === "chat" && f.op === undefined;
const chatSeqs = (c: WsTestClient) => c.frames.filter(isChat).map((f: any) => f.seq as string);
const sseChat = (c: SseTestClient) => c.events.filter((e) => e.event === undefined && e.json?.topic === "chat");

async function post(app: Tickwire, content: string): Promise<{ seq: string; status: number }> {
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
  const body = await res.json().then(anyJson);
  return { status: res.status, seq: body.seq };
}

async function postOk(app: Tickwire, content: string): Promise<string> {
  const { status, seq } = await post(app, content);
  expect(status).toBe(201);
  return seq;
}

const healthStatus = async (app: Tickwire) => (await fetch(`${app.url}/health`)).status;

async function restart(redis: DedicatedRedis, apps: Tickwire[]): Promise<void> {
  await redis.kill();
  await redis.start();
  for (const app of apps) await until(async () => (await healthStatus(app)) === 200, { message: "/health to answer 200 again", timeoutMs: 15_000 });
}

/** Sends `messages` as a relay manager; returns their ack seqs. */
async function relay(app: Tickwire, messages: string[]): Promise<string[]> {
  const manager = await openWs(wsUrl(app, "/ws/manager"));
  for (const m of messages) manager.send(m);
  const replies = await manager.collect(messages.length, (f) => f?.op === "ack" || f?.op === "error");
  manager.close();
  expect(replies.every((r: any) => r.op === "ack")).toBe(true);
  return replies.map((r: any) => r.seq as string);
}

/** Opens a WS client and awaits its opening. */
async function openWs(url: string): Promise<WsTestClient> {
  const c = wsClient(url);
  await c.opened;
  return c;
}

describe("offsets across a Redis that comes back EMPTY (dedicated, no persistence)", () => {
  const redis = new DedicatedRedis(freePort());
  const prefix = uniquePrefix("off-empty");
  let a: Tickwire;
  let b: Tickwire;

  beforeAll(async () => {
    expect(redis.url).not.toBe(REDIS_URL);
    await redis.start();
    const env = { REDIS_URL: redis.url, STREAM_PREFIX: prefix, DATABASE_URL: "sqlite::memory:" };
    a = await startServer(env);
    b = await startServer(env);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis.dispose();
  });

  it("a resume from the lost history is told recovered:false first, everywhere; live subscribers are reset", async () => {
    // Live subscribers on both instances that stay connected through the restart.
    const liveA = await openWs(wsUrl(a, "/ws?topics=chat"));
    const liveB = await openWs(wsUrl(b, "/ws?topics=chat"));
    const liveSse = await sseClient(`${b.url}/events`);

    const first = await postOk(a, "first");
    const lost: string[] = [];
    for (let i = 0; i < 10; i++) lost.push(await postOk(a, `lost-${i}`));
    const all = [first, ...lost];
    const relayLost = await relay(a, ["relay-1", "relay-2"]);
    for (const c of [liveA, liveB]) await c.next((f) => isChat(f) && f.seq === lost.at(-1));
    await liveSse.next((e) => e.id === lost.at(-1));
    for (const c of [liveA, liveB]) expect(chatSeqs(c)).toEqual(all);
    expect(sseChat(liveSse).map((e) => e.id)).toEqual(all);
    // Every durable frame names its epoch; one history, one epoch.
    const frames = liveA.frames.filter(isChat) as any[];
    expect(frames.every((f) => EPOCH.test(f.epoch))).toBe(true);
    const oldEpoch = frames[0].epoch as string;
    expect(new Set(frames.map((f) => f.epoch))).toEqual(new Set([oldEpoch]));

    await restart(redis, [a, b]);

    // The instances' tailers notice the new history and reset their live subscribers.
    expect((await liveA.closed).code).toBe(4008);
    expect((await liveB.closed).code).toBe(4008);
    await liveSse.next((e) => e.event === "overflow");
    await liveSse.ended;
    // Resuming with the last seq it saw: told that it was not recovered, before anything else.
    const lastSeen = chatSeqs(liveA).at(-1)!;
    const rejoined = await openWs(wsUrl(a, `/ws?topics=chat&since=${lastSeen}`));
    expect(await rejoined.next()).toEqual(NOT_RECOVERED);

    // The three ways to resume from `first`, on both instances.
    const sse = await sseClient(`${a.url}/events`, { "Last-Event-ID": first });
    const sseB = await sseClient(`${b.url}/events?lastEventId=${first}`);
    for (const c of [sse, sseB]) {
      const ev = await c.next();
      expect(ev.event).toBe("recovered");
      expect(ev.json).toEqual(NOT_RECOVERED);
    }
    const ws = await openWs(wsUrl(a, `/ws?topics=chat&since=${first}`));
    expect(await ws.next()).toEqual(NOT_RECOVERED);
    const inBand = await openWs(wsUrl(b, "/ws?topics="));
    inBand.send({ op: "subscribe", topic: "chat", since: first, ref: "s" });
    expect(await inBand.next()).toEqual({ op: "ack", ref: "s", topic: "chat" });
    expect(await inBand.next()).toEqual(NOT_RECOVERED);
    const broadcaster = await openWs(wsUrl(b, `/ws/broadcast?since=${relayLost[0]}`));
    expect(await broadcaster.next()).toEqual({ op: "recovered", topic: "relay", recovered: false });
    for (const app of [a, b]) {
      const res = await fetch(`${app.url}/messages?since=${first}`);
      expect(res.status).toBe(200);
      const body = await res.json().then(anyJson);
      expect(body.recovered).toBe(false);
      expect(body.messages).toEqual([]);
    }

    // A message after the restart: a new epoch, a seq after every old one, delivered once to
    // every resumed subscriber, after its recovered:false.
    const after = await postOk(b, "after");
    expect(compareSeq(after, lost.at(-1)!)).toBeGreaterThan(0);
    for (const c of [rejoined, ws, inBand]) {
      const f = await c.next(isChat);
      expect(f).toMatchObject({ topic: "chat", seq: after, content: "after" });
      expect(f.epoch).toMatch(EPOCH);
      expect(f.epoch).not.toBe(oldEpoch);
      expect(chatSeqs(c)).toEqual([after]);
      expect(c.frames.filter((x: any) => x.op === "recovered")).toEqual([NOT_RECOVERED]);
    }
    for (const c of [sse, sseB]) {
      const ev = await c.next((e) => e.id === after);
      expect(ev.json.epoch).not.toBe(oldEpoch);
      expect(sseChat(c).map((e) => e.id)).toEqual([after]);
      expect(c.events.filter((e) => e.event === "recovered").length).toBe(1);
    }
    // The new epoch's history is recovered from its own offsets.
    const fresh = await fetch(`${a.url}/messages?since=${after}`).then((r) => r.json().then(anyJson));
    expect(fresh).toMatchObject({ messages: [], recovered: true });

    await relay(a, ["relay-after"]);
    expect(await broadcaster.next()).toBe("relay-after");
    expect(broadcaster.raw.length).toBe(2);

    for (const c of [rejoined, ws, inBand, broadcaster]) c.close();
    for (const c of [sse, sseB]) c.close();
  });
});

describe("control: offsets across a PERSISTENT Redis restart (dedicated, AOF fsync always)", () => {
  const redis = new DedicatedRedis(freePort(), { persistent: true });
  const prefix = uniquePrefix("off-aof");
  let app: Tickwire;

  beforeAll(async () => {
    expect(redis.url).not.toBe(REDIS_URL);
    await redis.start();
    app = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: prefix, DATABASE_URL: "sqlite::memory:" });
  });
  afterAll(async () => {
    await app?.stop();
    await redis.dispose();
  });

  it("every message is delivered exactly once, with no recovered:false", async () => {
    const live = await openWs(wsUrl(app, "/ws?topics=chat"));
    const liveSse = await sseClient(`${app.url}/events`);
    const first = await postOk(app, "first");
    const kept: string[] = [];
    for (let i = 0; i < 10; i++) kept.push(await postOk(app, `kept-${i}`));
    const relayKept = await relay(app, ["relay-1", "relay-2"]);
    await live.next((f) => isChat(f) && f.seq === kept.at(-1));
    await liveSse.next((e) => e.id === kept.at(-1));
    const epoch = (live.frames.find(isChat) as any).epoch as string;
    expect(epoch).toMatch(EPOCH);

    await restart(redis, [app]);

    const sse = await sseClient(`${app.url}/events`, { "Last-Event-ID": first });
    const ws = await openWs(wsUrl(app, `/ws?topics=chat&since=${first}`));
    const inBand = await openWs(wsUrl(app, "/ws?topics="));
    inBand.send({ op: "subscribe", topic: "chat", since: first, ref: "s" });
    const broadcaster = await openWs(wsUrl(app, `/ws/broadcast?since=${relayKept[0]}`));
    const history = await fetch(`${app.url}/messages?since=${first}`).then((r) => r.json().then(anyJson));
    expect(history.recovered).toBe(true);
    expect(history.messages.map((m: any) => m.seq)).toEqual(kept);
    expect(history.messages.map((m: any) => m.content)).toEqual(kept.map((_, i) => `kept-${i}`));

    const after = await postOk(app, "after");
    const expected = [...kept, after];
    for (const c of [ws, inBand]) {
      await c.next((f) => isChat(f) && f.seq === after);
      expect(chatSeqs(c)).toEqual(expected);
      expect(c.frames.some((f: any) => f.op === "recovered")).toBe(false);
      expect((c.frames.filter(isChat) as any[]).every((f) => f.epoch === epoch)).toBe(true);
    }
    await sse.next((e) => e.id === after);
    expect(sseChat(sse).map((e) => e.id)).toEqual(expected);
    expect(sse.events.some((e) => e.event !== undefined)).toBe(false);

    // The subscribers that stayed connected: every message once, none twice, no reset.
    await live.next((f) => isChat(f) && f.seq === after);
    await liveSse.next((e) => e.id === after);
    expect(chatSeqs(live)).toEqual([first, ...expected]);
    expect(sseChat(liveSse).map((e) => e.id)).toEqual([first, ...expected]);
    expect(live.frames.some((f: any) => f.op === "recovered")).toBe(false);
    expect(liveSse.events.some((e) => e.event !== undefined)).toBe(false);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);

    await relay(app, ["relay-after"]);
    await broadcaster.collect(2);
    expect(broadcaster.raw).toEqual(["relay-2", "relay-after"]);

    for (const c of [live, ws, inBand, broadcaster]) c.close();
    for (const c of [sse, liveSse]) c.close();
  });
});
