/**
 * The trim watch's check of a stream trimmed to nothing is confirmed by the tailer (found by
 * review, 2026-12-04): the watch saw the empty stream past the tailer's position while the
 * tailer's reply, written by Redis before the trim, held every entry up to it, and reset every
 * subscriber though nothing was missed. A dedicated redis-server; the reply held by tail-gate.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { systemClock } from "../src/core/clock.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { RedisTopicLog } from "../src/infra/redis/topic-log.ts";
import { silentLogger } from "../src/log.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { uniquePrefix } from "./support/server.ts";
import { gateTailOf } from "./support/tail-gate.ts";
import { until } from "./support/until.ts";

const redis = new DedicatedRedis(freePort());
const clients: Redis[] = [];
const logs: RedisTopicLog[] = [];
beforeAll(() => redis.start());
afterAll(async () => {
  for (const l of logs) await l.stop();
  for (const c of clients) c.destroy();
  await redis.dispose();
});

async function open(prefix: string, gated: boolean) {
  const client = await connectRedis({ url: redis.url, log: silentLogger, name: "t" });
  clients.push(client);
  const gate = gated ? gateTailOf(client) : undefined;
  const log = new RedisTopicLog({ client, prefix, topics: ["relay"], historySize: 1000, clock: systemClock, log: silentLogger });
  logs.push(log);
  await log.start();
  const got: string[] = [];
  let gaps = 0;
  log.tail((e) => got.push(e.seq));
  log.onGap(() => gaps++);
  return { log, gate, got, gaps: () => gaps };
}

it("XTRIM MAXLEN 0 while the tailer's reply with the last entry is on its way: no gap", async () => {
  const prefix = uniquePrefix("rev6-inflight");
  const a = await open(prefix, true);
  const b = await open(prefix, false);
  const m0 = await b.log.append("relay", { message: "m0" });
  await until(() => a.got.includes(m0.seq), { message: "A to deliver m0" });
  a.gate!.close();
  const m1 = await b.log.append("relay", { message: "m1" }); // A's blocked XREAD is answered [m1]; its reply waits
  await redis.cli("XTRIM", `${prefix}:relay`, "MAXLEN", "0");
  // One trim-watch round (500 ms) sees the empty stream while the reply is still held.
  const t0 = Date.now();
  await until(() => a.gaps() > 0 || Date.now() - t0 > 1500, { message: "a watch round or two" });
  a.gate!.open();
  await until(() => a.got.includes(m1.seq), { message: "A to deliver m1" });
  expect(a.got).toContain(m1.seq); // A delivered every entry...
  expect(a.gaps()).toBe(0); // ...and reset nobody
}, 30000);
