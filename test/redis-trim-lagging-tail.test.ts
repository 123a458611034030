/**
 * A trim past an instance's tailer that is a moment behind (found by review, 2026-12-04): the
 * README's relay clean-up (`XTRIM <prefix>:relay MAXLEN 0`), any `MAXLEN`, or another instance
 * with a smaller `HISTORY_SIZE`. Entries the other instance delivered were trimmed before the
 * lagging tailer read them, and its gap check ran only for large batches (and never for a stream
 * trimmed to nothing), so its live subscribers missed them and were not told. Now they are reset
 * (onGap: 4008 / SSE overflow) to resume and be told. A dedicated redis-server.
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

async function open(prefix: string, gated: boolean, historySize = 1000) {
  const client = await connectRedis({ url: redis.url, log: silentLogger, name: "t" });
  clients.push(client);
  const gate = gated ? gateTailOf(client) : undefined;
  const log = new RedisTopicLog({ client, prefix, topics: ["relay"], historySize, clock: systemClock, log: silentLogger });
  logs.push(log);
  await log.start();
  const got: string[] = [];
  let gaps = 0;
  log.tail((e) => got.push(e.seq));
  log.onGap(() => gaps++);
  return { log, gate, got, gaps: () => gaps };
}

for (const maxlen of ["0", "5"]) {
  it(`XTRIM MAXLEN ${maxlen} past a tailer a moment behind: it delivers every entry or reports the gap`, async () => {
    const prefix = uniquePrefix(`rev1-trim${maxlen}`);
    const a = await open(prefix, true);
    const b = await open(prefix, false);
    const first = await b.log.append("relay", { message: "m0" });
    await until(() => a.got.includes(first.seq), { message: "A to deliver m0" });

    a.gate!.close(); // A's tail lags (its XREAD reply waits)
    const all: string[] = [];
    for (let i = 1; i <= 20; i++) all.push((await b.log.append("relay", { message: `m${i}` })).seq);
    await until(() => b.got.includes(all.at(-1)!), { message: "B to deliver all 20 (its subscribers have them)" });
    await redis.cli("XTRIM", `${prefix}:relay`, "MAXLEN", maxlen);
    a.gate!.open();
    // Then life goes on: one more entry, which A delivers live.
    const after = await b.log.append("relay", { message: "after" });
    await until(() => a.got.includes(after.seq), { message: "A to deliver the next entry" });

    const missed = all.filter((s) => !a.got.includes(s));
    // The contract: every entry, or the subscribers are reset (told).
    expect(missed.length === 0 || a.gaps() > 0).toBe(true);
  }, 30000);
}

it("no operator: an instance with a smaller HISTORY_SIZE (rolling config change) trims past a tailer 400 entries behind: the gap is reported", async () => {
  const prefix = uniquePrefix("rev1-trimhs");
  const a = await open(prefix, true, 1000);
  const b = await open(prefix, false, 100);
  const first = await b.log.append("relay", { message: "m0" });
  await until(() => a.got.includes(first.seq), { message: "A to deliver m0" });
  a.gate!.close();
  const all: string[] = [];
  for (let i = 1; i <= 400; i++) all.push((await b.log.append("relay", { message: `m${i}` })).seq);
  a.gate!.open();
  await until(() => a.got.includes(all.at(-1)!), { message: "A to deliver the newest" });
  const missed = all.filter((s) => !a.got.includes(s));
  expect(missed.length === 0 || a.gaps() > 0).toBe(true);
}, 30000);

it("XTRIM MAXLEN 0 past a tailer a moment behind, and nothing after: the trim watch reports the gap", async () => {
  const prefix = uniquePrefix("rev1-trim0-quiet");
  const a = await open(prefix, true);
  const b = await open(prefix, false);
  const first = await b.log.append("relay", { message: "m0" });
  await until(() => a.got.includes(first.seq), { message: "A to deliver m0" });
  a.gate!.close();
  const all: string[] = [];
  for (let i = 1; i <= 20; i++) all.push((await b.log.append("relay", { message: `m${i}` })).seq);
  await redis.cli("XTRIM", `${prefix}:relay`, "MAXLEN", "0");
  a.gate!.open();
  // No read will ever return the trimmed entries: the 500 ms watch sees the empty stream.
  await until(() => all.every((s) => a.got.includes(s)) || a.gaps() > 0, { message: "every entry delivered, or the gap reported", timeoutMs: 10_000 });
});

it("a trim of entries every instance delivered is no gap: no one is reset", async () => {
  const prefix = uniquePrefix("rev1-trim-caught-up");
  const a = await open(prefix, false);
  const b = await open(prefix, false);
  const old: string[] = [];
  for (let i = 0; i < 5; i++) old.push((await b.log.append("relay", { message: `old${i}` })).seq);
  await until(() => a.got.includes(old.at(-1)!), { message: "A to deliver them" });
  for (const maxlen of ["2", "0"]) {
    await redis.cli("XTRIM", `${prefix}:relay`, "MAXLEN", maxlen);
    const next = await b.log.append("relay", { message: `after ${maxlen}` });
    await until(() => a.got.includes(next.seq), { message: "A to deliver the next entry" });
  }
  expect([a.gaps(), b.gaps()]).toEqual([0, 0]);
});
