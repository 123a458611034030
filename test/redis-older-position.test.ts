/**
 * After a Redis that came back OLDER (restored from a snapshot, a lossy failover), where a new
 * subscriber starts (found by review, 2026-12-04): the tailer is moved back to the restored
 * stream's end, before the renewed epoch's start, and a new subscriber was acked that seq with
 * the new epoch; a resume from it was told recovered:false though nothing was missed. The log's
 * position is the epoch's start until an entry of it is read. A dedicated redis-server.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const redis = new DedicatedRedis(freePort(), { persistent: true });
const snapshots = mkdtempSync(join(tmpdir(), "rev6-snap-"));
const prefix = uniquePrefix("rev6-older");
let a: Tickwire;

beforeAll(async () => {
  await redis.start();
  a = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: prefix, DATABASE_URL: "sqlite::memory:" });
});
afterAll(async () => {
  await a?.stop();
  await redis.dispose();
  rmSync(snapshots, { recursive: true, force: true });
});

async function post(content: string) {
  const res = await fetch(`${a.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as any).seq as string;
}

it("after a Redis that came back older, a subscribe made after the reset is acked a position a resume from which is recovered", async () => {
  const live = wsClient(wsUrl(a, "/ws?topics=chat"));
  await live.opened;
  await post("one");
  cpSync(join(redis.dir!, "appendonlydir"), join(snapshots, "one"), { recursive: true });
  const last = await post("two");
  await live.next((x: any) => x.topic === "chat" && x.seq === last);

  await redis.kill();
  rmSync(join(redis.dir!, "appendonlydir"), { recursive: true, force: true });
  cpSync(join(snapshots, "one"), join(redis.dir!, "appendonlydir"), { recursive: true });
  await redis.start();
  expect((await live.closed).code).toBe(4008);
  await until(async () => (await fetch(`${a.url}/health`)).status === 200, { message: "health 200", timeoutMs: 15000 });
  const cur = (await redis.cli("GET", `${prefix}:epoch:chat`)).split(" ");

  const c = wsClient(wsUrl(a, "/ws?topics="));
  await c.opened;
  c.send({ op: "subscribe", topic: "chat", ref: "s" });
  const ack = await c.next((x: any) => x.op === "ack" && x.ref === "s");
  c.close();

  const r = wsClient(wsUrl(a, `/ws?topics=chat&since=${ack.seq}`));
  await r.opened;
  const mid = await post("after reset");
  const got = await r.next((x: any) => (x.topic === "chat" && x.seq === mid) || x.op === "recovered");
  r.close();
  expect(ack.epoch).toBe(cur[0]);
  expect(got.op).toBeUndefined();
}, 40000);
