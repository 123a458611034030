/**
 * Local delivery in the Redis topic log (issue #18): an instance hands an entry it appended to
 * its listeners as soon as the append is acknowledged, when nothing in any tailed stream precedes
 * it undelivered, and its tailer then skips that entry. Here the tailer of instance `a` is held
 * (its `XREAD` replies wait behind a gate), so which path delivers each entry is deterministic:
 * every entry is still delivered exactly once per instance, in the log's order, on every
 * instance alike.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { systemClock } from "../src/core/clock.ts";
import { compareSeq } from "../src/core/seq.ts";
import type { LogEntry } from "../src/core/topic-log.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { RedisTopicLog } from "../src/infra/redis/topic-log.ts";
import { silentLogger } from "../src/log.ts";
import { REDIS_URL, uniquePrefix } from "./support/server.ts";
import { gateTailOf as gateTail, type TailGate } from "./support/tail-gate.ts";
import { until } from "./support/until.ts";

const clients: Redis[] = [];
const logs: RedisTopicLog[] = [];
const prefixes: string[] = [];
const gates: TailGate[] = [];

/** A held tailer, opened again at the end. */
function gateTailOf(client: Redis): TailGate {
  const g = gateTail(client);
  gates.push(g);
  return g;
}

async function openLog(prefix: string, gated = false): Promise<{ log: RedisTopicLog; seen: LogEntry[]; gate: TailGate | undefined }> {
  const client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "test" });
  clients.push(client);
  const gate = gated ? gateTailOf(client) : undefined;
  const log = new RedisTopicLog({ client, prefix, topics: ["chat", "relay"], historySize: 1000, clock: systemClock, log: silentLogger });
  logs.push(log);
  await log.start();
  const seen: LogEntry[] = [];
  log.tail((e) => seen.push(e));
  return { log, seen, gate };
}

function newPrefix(name: string): string {
  const p = uniquePrefix(name);
  prefixes.push(p);
  return p;
}

const seqs = (entries: LogEntry[]) => entries.map((e) => `${e.topic} ${e.seq}`);

afterAll(async () => {
  for (const g of gates) g.open();
  for (const log of logs) await log.stop();
  const admin = clients[0];
  if (admin) for (const p of prefixes) await admin.sendCommand(["DEL", `${p}:chat`, `${p}:relay`, `${p}:epoch:chat`, `${p}:epoch:relay`]);
  for (const c of clients) c.destroy();
});

describe("RedisTopicLog local delivery", () => {
  it("delivers its own entry once the append is acknowledged, and its tailer does not deliver it again", async () => {
    const prefix = newPrefix("rld-own");
    const a = await openLog(prefix, true);
    const b = await openLog(prefix);
    a.gate!.close();
    const own: LogEntry[] = [];
    for (let i = 0; i < 5; i++) {
      own.push(await a.log.append(i % 2 ? "relay" : "chat", { i }));
      // Delivered before the append resolved, with the tailer held.
      expect(seqs(a.seen)).toEqual(seqs(own));
    }
    expect(a.log.lastDelivered("relay")).toBe(own[3]!.seq);
    a.gate!.open();
    // Another instance's entry reaches `a` through its tailer, after the held reads it skipped.
    const other = await b.log.append("chat", { from: "b" });
    await until(() => a.seen.length >= 6, { message: () => `6 entries on a (got ${a.seen.length})` });
    expect(seqs(a.seen)).toEqual(seqs([...own, other]));
    await until(() => b.seen.length >= 6, { message: () => `6 entries on b (got ${b.seen.length})` });
    expect(seqs(b.seen)).toEqual(seqs(a.seen));
    expect(a.seen.map((e) => e.body)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }, { from: "b" }]);
  });

  it("waits for its tailer when another instance's entry, on any topic, precedes its own undelivered", async () => {
    for (const topic of ["chat", "relay"]) {
      const prefix = newPrefix(`rld-wait-${topic}`);
      const a = await openLog(prefix, true);
      const b = await openLog(prefix);
      a.gate!.close();
      const first = await b.log.append(topic, { from: "b" });
      const mine = await a.log.append("chat", { from: "a" });
      // `a` has not read b's entry yet: delivering its own now would put it first.
      expect(a.seen).toEqual([]);
      a.gate!.open();
      await until(() => a.seen.length >= 2, { message: () => `2 entries on a (got ${a.seen.length})` });
      await until(() => b.seen.length >= 2, { message: () => `2 entries on b (got ${b.seen.length})` });
      expect(seqs(a.seen)).toEqual(seqs([first, mine]));
      expect(seqs(b.seen)).toEqual(seqs(a.seen));
    }
  });

  it("delivers an idempotent append once, however often it is repeated", async () => {
    const prefix = newPrefix("rld-eid");
    const a = await openLog(prefix, true);
    const b = await openLog(prefix);
    a.gate!.close();
    const once = await a.log.append("chat", { n: 1 }, { eventId: `${prefix}-e1` });
    const again = await a.log.append("chat", { n: 1 }, { eventId: `${prefix}-e1` });
    expect(again.seq).toBe(once.seq);
    a.gate!.open();
    const other = await b.log.append("chat", { from: "b" });
    await until(() => a.seen.length >= 2, { message: () => `2 entries on a (got ${a.seen.length})` });
    expect(seqs(a.seen)).toEqual(seqs([once, other]));
    await admin().sendCommand(["DEL", `${prefix}:eid:${prefix}-e1`]);
  });

  it("keeps one order on both instances when both publish at once", async () => {
    const prefix = newPrefix("rld-both");
    const a = await openLog(prefix);
    const b = await openLog(prefix);
    const appended = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 3 ? a : b).log.append(i % 2 ? "chat" : "relay", { i })));
    await until(() => a.seen.length >= 300 && b.seen.length >= 300, { message: () => `300 entries each (a ${a.seen.length}, b ${b.seen.length})` });
    for (const topic of ["chat", "relay"]) {
      const order = appended.filter((e) => e.topic === topic).map((e) => e.seq);
      order.sort(compareSeq);
      expect(a.seen.filter((e) => e.topic === topic).map((e) => e.seq)).toEqual(order);
      expect(b.seen.filter((e) => e.topic === topic).map((e) => e.seq)).toEqual(order);
    }
    expect(a.seen.length).toBe(300);
    expect(b.seen.length).toBe(300);
  });
});

function admin(): Redis {
  return clients[0]!;
}
