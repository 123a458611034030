/**
 * After a Redis that came back EMPTY, where a new subscriber starts (found by review,
 * 2026-12-04): the hub kept the lost history's last seq and epoch as the topic's position until it
 * delivered an entry of the new one, so a subscribe made after the reset was acked with them, and
 * a resume from that ack was told recovered:false though nothing was missed (and ephemeral
 * frames, SSE `?position=1` and timer snapshots carried them too). A dedicated redis-server.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const redis = new DedicatedRedis(freePort());
const prefix = uniquePrefix("rev1-stale");
let a: Tickwire;

beforeAll(async () => {
  await redis.start();
  a = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: prefix, DATABASE_URL: "sqlite::memory:" });
});
afterAll(async () => {
  await a?.stop();
  await redis.dispose();
});

async function post(content: string) {
  const res = await fetch(`${a.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as any).seq as string;
}

it("after a Redis that came back empty, a subscribe made after the reset is acked with the new epoch, and a resume from that ack is recovered", async () => {
  const live = wsClient(wsUrl(a, "/ws?topics=chat"));
  await live.opened;
  await post("one");
  const last = await post("two");
  const f = await live.next((x: any) => x.topic === "chat" && x.seq === last);
  const oldEpoch = f.epoch;

  await redis.kill();
  await redis.start();
  expect((await live.closed).code).toBe(4008);
  await until(async () => (await fetch(`${a.url}/health`)).status === 200, { message: "health 200", timeoutMs: 15000 });
  const cur = (await redis.cli("GET", `${prefix}:epoch:chat`)).split(" ");

  // A new client, AFTER the reset: it has missed nothing.
  const c = wsClient(wsUrl(a, "/ws?topics="));
  await c.opened;
  c.send({ op: "subscribe", topic: "chat", ref: "s" });
  const ack = await c.next((x: any) => x.op === "ack" && x.ref === "s");
  c.close();

  // It reconnects from the position it was given: nothing was posted since.
  const r = wsClient(wsUrl(a, `/ws?topics=chat&since=${ack.seq}`));
  await r.opened;
  const mid = await post("after reset");
  const got = await r.next((x: any) => (x.topic === "chat" && x.seq === mid) || x.op === "recovered");
  r.close();
  expect(ack.epoch).toBe(cur[0]);
  expect(ack.epoch).not.toBe(oldEpoch);
  expect(got.op).toBeUndefined();
}, 40000);
