/**
 * Redis going away and coming back, on a DEDICATED redis-server (its own port, with AOF
 * persistence so that it comes back with its history; the machine's shared Redis is never
 * touched; a Redis that comes back EMPTY is `redis-epoch.test.ts`): the instance stays up and serves what it can,
 * `/health` reports `redis` down with 503, appends fail with 503 and a clear error, the tailer
 * resumes from its last delivered id (nothing missed, nothing twice), and a full append queue
 * answers 503 / `overloaded` instead of accepting work it could lose.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import { defaultMaxInFlight } from "../src/infra/redis/append-script.ts";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { REDIS_URL, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { type SseTestClient, sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

// Response bodies are checked by the assertions; typed loosely on purpose.
const anyJson = (v: unknown): any => v;

const health = async (app: Tickwire) => {
  const res = await fetch(`${app.url}/health`);
  return { status: res.status, body: (await res.json().then(anyJson)) as any };
};
const post = (app: Tickwire, content: string) =>
  fetch(`${app.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
const chatIds = (events: SseTestClient["events"]) => events.filter((e) => e.event === undefined).map((e) => e.id!);
const isChat = (f: any) => f?.topic === "chat" && f.op === undefined;

describe("Redis faults (dedicated redis-server)", () => {
  const redis = new DedicatedRedis(freePort(), { persistent: true });
  const prefix = uniquePrefix("fault");
  let app: Tickwire;
  let sse: SseTestClient;
  let ws: WsTestClient;
  const accepted: string[] = [];

  beforeAll(async () => {
    expect(redis.url).not.toBe(REDIS_URL);
    await redis.start();
    // The burst past the append queue is far past one socket's default publish rate.
    app = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: prefix, TICK_MS: "100", WS_PUBLISHES_PER_SECOND: "100000", WS_OPS_PER_SECOND: "100000" });
    sse = await sseClient(`${app.url}/events`);
    ws = wsClient(wsUrl(app, "/ws?topics=chat,cron"));
    await ws.opened;
  });
  afterAll(async () => {
    sse?.close();
    ws?.close();
    await app?.stop();
    await redis.kill();
  });

  it("serves chat normally while Redis is up", async () => {
    for (let i = 0; i < 10; i++) accepted.push((await (await post(app, `before-${i}`)).json().then(anyJson)).seq);
    await sse.collect(10);
    expect((await health(app)).body.checks.redis).toBe("up");
  });

  it("stays up while Redis is down: health 503, appends 503 with Retry-After, the rest served", async () => {
    await redis.kill();
    await until(async () => (await health(app)).status === 503, { message: "health to report redis down" });
    const { body } = await health(app);
    expect(body.checks.redis).toBe("down");
    expect(body.status).toBe("degraded");

    const res = await post(app, "during outage");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await res.json().then(anyJson)).error).toMatchObject({ code: "log_unavailable", message: expect.stringContaining("redis") });
    ws.send({ op: "publish", topic: "chat", data: { content: "ws during outage" }, ref: "down" });
    expect(await ws.next((f) => f.op === "error" && f.ref === "down")).toMatchObject({ code: "log_unavailable" });
    const history = await fetch(`${app.url}/messages`);
    expect(history.status).toBe(503);

    // What does not need Redis keeps working: cron ticks and open streams.
    const ticksBefore = ws.frames.filter((f: any) => f.topic === "cron").length;
    await ws.collect(ticksBefore + 2, (f) => f.topic === "cron");
    expect(app.ctx.hub.log.healthy()).toBe(false);
  });

  it("recovers when Redis is back: appends accepted, tailer resumed, nothing twice", async () => {
    await redis.start();
    await until(async () => (await health(app)).status === 200, { message: "health to report redis up", timeoutMs: 15_000 });
    for (let i = 0; i < 10; i++) {
      const res = await post(app, `after-${i}`);
      expect(res.status).toBe(201);
      accepted.push((await res.json().then(anyJson)).seq);
    }
    await sse.collect(20, (e) => e.event === undefined);
    await ws.collect(20, isChat);
    expect(chatIds(sse.events)).toEqual(accepted);
    expect(ws.frames.filter(isChat).map((f: any) => f.seq)).toEqual(accepted);
  });

  it("resumes the tailer from its last delivered id after its connection drops", async () => {
    // Another instance keeps appending while the tailers are disconnected.
    const other = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: prefix });
    const list = await redis.cli("CLIENT", "LIST");
    const tailerIds = list
      .split("\n")
      .filter((l) => l.includes(`name=${prefix}-tailer`))
      .map((l) => /id=(\d+)/.exec(l)![1]!);
    expect(tailerIds.length).toBe(2);
    // Both instances' tailers drop; appends (on their command connections) carry on.
    for (const id of tailerIds) await redis.cli("CLIENT", "KILL", "ID", id);
    for (let i = 0; i < 20; i++) {
      const res = await post(other, `gap-${i}`);
      expect(res.status).toBe(201);
      accepted.push((await res.json().then(anyJson)).seq);
    }
    await sse.collect(40, (e) => e.event === undefined);
    await ws.collect(40, isChat);
    expect(chatIds(sse.events)).toEqual(accepted);
    expect(ws.frames.filter(isChat).map((f: any) => f.seq)).toEqual(accepted);
    expect([...accepted].sort(compareSeq)).toEqual(accepted);
    await other.stop();
  });

  it("answers overloaded while the append queue is full, and keeps every message it accepted", async () => {
    const publisher = wsClient(wsUrl(app, "/ws?topics="));
    await publisher.opened;
    await redis.cli("CLIENT", "PAUSE", "1500", "WRITE");
    // The default in-flight limit for HISTORY_SIZE=1000.
    const limit = defaultMaxInFlight(1000);
    const total = limit + 100;
    for (let i = 0; i < total; i++) publisher.send({ op: "publish", topic: "chat", data: { content: `burst-${i}` }, ref: i });
    const rejected = await publisher.collect(total - limit, (f) => f.op === "error");
    expect(rejected.every((f: any) => f.code === "overloaded")).toBe(true);
    const res = await post(app, "one too many");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await res.json().then(anyJson)).error.code).toBe("overloaded");

    const acks = await publisher.collect(limit, (f) => f.op === "ack", 15_000);
    const seqs = acks.map((f: any) => f.seq as string);
    const delivered = await ws.collect(accepted.length + limit, isChat, 15_000);
    expect(delivered.slice(accepted.length).map((f: any) => f.seq)).toEqual(seqs);
    expect(publisher.frames.filter((f: any) => f.op === "error").length).toBe(total - limit);
    publisher.close();
  });
});
