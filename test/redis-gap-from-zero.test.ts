/**
 * A tailer at `0-0` (no stream when it started, or none after Redis came back empty) whose first
 * entries were trimmed before it read them (found by review, 2026-12-04): the gap checks skipped
 * that position, so its live subscribers missed them untold. The tailer here is a moment behind
 * by holding its XREAD before it is sent. A dedicated redis-server.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { systemClock } from "../src/core/clock.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { RedisTopicLog } from "../src/infra/redis/topic-log.ts";
import { silentLogger } from "../src/log.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { uniquePrefix } from "./support/server.ts";
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

/** Holds the tailer's XREADs before they are sent while closed. */
function holdTailOf(client: Redis) {
  let gate: Promise<void> | undefined;
  let release = () => {};
  const sent: string[][] = [];
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (async (options: Parameters<Redis["duplicate"]>[0]) => {
    const tail = await duplicate(options);
    const send = tail.sendCommand.bind(tail);
    tail.sendCommand = (async (args: string[], route?: string) => {
      if (args[0] === "XREAD" && gate) await gate;
      if (args[0] === "XREAD") sent.push(args);
      return send(args, route);
    }) as Redis["sendCommand"];
    return tail;
  }) as Redis["duplicate"];
  return {
    sent,
    close: () => void (gate = new Promise((r) => (release = r))),
    open: () => {
      gate = undefined;
      release();
    },
  };
}

async function open(prefix: string, held: boolean) {
  const client = await connectRedis({ url: redis.url, log: silentLogger, name: "t" });
  clients.push(client);
  const hold = holdTailOf(client);
  if (held) hold.close();
  const log = new RedisTopicLog({ client, prefix, topics: ["relay"], historySize: 1000, clock: systemClock, log: silentLogger });
  logs.push(log);
  await log.start();
  const got: string[] = [];
  let gaps = 0;
  log.tail((e) => got.push(e.seq));
  log.onGap(() => gaps++);
  return { log, hold, got, gaps: () => gaps };
}

it("a tailer at 0-0 (no stream when it started) whose first entries were trimmed before it read them: every entry or the gap", async () => {
  const prefix = uniquePrefix("rev6-zero5");
  const a = await open(prefix, true); // its first XREAD waits
  expect(a.log.lastDelivered("relay")).not.toBe(undefined);
  const b = await open(prefix, false);
  const all: string[] = [];
  for (let i = 1; i <= 20; i++) all.push((await b.log.append("relay", { message: `m${i}` })).seq);
  await redis.cli("XTRIM", `${prefix}:relay`, "MAXLEN", "5");
  a.hold.open();
  await until(() => a.got.includes(all.at(-1)!), { message: "A to deliver the newest" });
  const missed = all.filter((s) => !a.got.includes(s));
  expect(missed.length === 0 || a.gaps() > 0).toBe(true);
}, 30000);

it("the same trimmed to nothing (XTRIM MAXLEN 0) and quiet: the trim watch reports it", async () => {
  const prefix = uniquePrefix("rev6-zero0");
  const a = await open(prefix, true);
  const b = await open(prefix, false);
  const all: string[] = [];
  for (let i = 1; i <= 20; i++) all.push((await b.log.append("relay", { message: `m${i}` })).seq);
  await redis.cli("XTRIM", `${prefix}:relay`, "MAXLEN", "0");
  a.hold.open();
  // A's next XREAD has been sent and answered nothing; the watch runs every 500 ms.
  await until(() => a.hold.sent.length >= 1, { message: "A's XREAD to go out" });
  const probe = await b.log.append("relay", { message: "probe" }); // life goes on; A gets it
  await until(() => a.got.includes(probe.seq), { message: "A to deliver the probe" });
  const missed = all.filter((s) => !a.got.includes(s));
  expect(missed.length === 0 || a.gaps() > 0).toBe(true);
}, 30000);
