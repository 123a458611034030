/**
 * Identical Redis history reads in flight share one answer, but only while this instance's
 * delivery stands where it did (found by review, 2026-12-04). Two instances on one Redis; on B a
 * replay from outside the in-memory window reads Redis, and its reply is still on its way when A
 * appends X and B's tailer delivers X. A second client resuming on B from the same `since` was
 * handed the first read's answer, without X, and X had been delivered before its replay
 * registered: it went live without X, recovered, untold.
 */
import { afterAll, expect, it } from "bun:test";
import { systemClock } from "../src/core/clock.ts";
import { Hub } from "../src/core/hub.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { RedisTopicLog } from "../src/infra/redis/topic-log.ts";
import { silentLogger } from "../src/log.ts";
import { REDIS_URL, uniquePrefix } from "./support/server.ts";
import { until } from "./support/until.ts";

const clients: Redis[] = [];
const logs: RedisTopicLog[] = [];
const prefix = uniquePrefix("rev5-shared-read");

afterAll(async () => {
  for (const l of logs) await l.stop();
  await clients[0]?.sendCommand(["DEL", `${prefix}:chat`, `${prefix}:epoch:chat`]);
  for (const c of clients) c.destroy();
});

function recorder() {
  const got: string[] = [];
  const events: string[] = [];
  const target = {
    closed: false,
    send: (frame: string) => (got.push(JSON.parse(frame).seq), true),
    notRecovered: () => events.push("recovered:false"),
    goLive: () => events.push("live"),
    overflowed: () => events.push("overflowed"),
  };
  return { got, events, target };
}

it("a second resume from the same since gets every entry after it (or is told)", async () => {
  const open = async () => {
    const client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "test" });
    clients.push(client);
    return client;
  };
  const ca = await open();
  const cb = await open();
  // B's XRANGE replies wait at a gate once Redis has answered them (a reply still in transit).
  let hold = false;
  let release = () => {};
  let gate = Promise.resolve();
  let answered = false;
  const send = cb.sendCommand.bind(cb);
  cb.sendCommand = (async (args: string[], route?: string) => {
    const reply = await send(args, route);
    if (args[0] === "XRANGE" && hold) {
      answered = true;
      await gate;
    }
    return reply;
  }) as Redis["sendCommand"];
  const a = new RedisTopicLog({ client: ca, prefix, topics: ["chat"], historySize: 10, clock: systemClock, log: silentLogger });
  const b = new RedisTopicLog({ client: cb, prefix, topics: ["chat"], historySize: 10, clock: systemClock, log: silentLogger });
  logs.push(a, b);
  await a.start();
  await b.start();
  const hubB = new Hub({ log: b, clock: systemClock, durableRoots: ["chat"], onError: () => {} });
  const seqs: string[] = [];
  for (let i = 0; i < 40; i++) seqs.push((await a.append("chat", { i })).seq);
  await until(() => hubB.lastDelivered("chat") === seqs.at(-1), { message: "B to deliver the 40" });
  const since = seqs[5]!; // outside B's window of 10, still in the stream (MAXLEN ~ trims whole nodes)

  hold = true;
  gate = new Promise((r) => (release = r));
  const r1 = recorder();
  const p1 = hubB.replay("chat", since, r1.target);
  await until(() => answered, { message: "Redis to have answered B's XRANGE" });
  const x = await a.append("chat", { i: "X" });
  await until(() => hubB.lastDelivered("chat") === x.seq, { message: "B's tailer to deliver X" });
  const r2 = recorder();
  const p2 = hubB.replay("chat", since, r2.target);
  release();
  await Promise.all([p1, p2]);
  const expected = [...seqs.slice(6), x.seq];
  expect(r1.got).toEqual(expected);
  expect(r1.events).toEqual(["live"]);
  // r2 went live without being told anything: it must have X too
  expect(r2.events).toEqual(["live"]);
  expect(r2.got).toEqual(expected);
});
