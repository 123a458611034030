/**
 * The Redis Streams topic log against the machine's Redis (keys under a unique prefix): stream
 * ids as seqs, exclusive history reads, eviction reported as `recovered: false`, one tailer per
 * instance delivering every entry exactly once in stream order, and bounded appends.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { systemClock } from "../src/core/clock.ts";
import { compareSeq } from "../src/core/seq.ts";
import { ClaimConflictError, type LogEntry, LogUnavailableError } from "../src/core/topic-log.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { RedisTopicLog, type RedisTopicLogOptions } from "../src/infra/redis/topic-log.ts";
import { silentLogger } from "../src/log.ts";
import { REDIS_URL, uniquePrefix } from "./support/server.ts";
import { until } from "./support/until.ts";

const clients: Redis[] = [];
const logs: RedisTopicLog[] = [];
const prefixes: string[] = [];

async function openLog(prefix: string, opts: Partial<RedisTopicLogOptions> = {}): Promise<RedisTopicLog> {
  const client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "test" });
  clients.push(client);
  const log = new RedisTopicLog({ client, prefix, topics: ["chat", "relay"], historySize: 1000, clock: systemClock, log: silentLogger, ...opts });
  logs.push(log);
  await log.start();
  return log;
}

function newPrefix(name: string): string {
  const p = uniquePrefix(name);
  prefixes.push(p);
  return p;
}

afterAll(async () => {
  for (const log of logs) await log.stop();
  const admin = clients[0];
  if (admin) for (const p of prefixes) await admin.sendCommand(["DEL", `${p}:chat`, `${p}:relay`, `${p}:chat:last-id`]);
  for (const c of clients) c.destroy();
});

describe("RedisTopicLog", () => {
  it("uses stream ids as seqs and reads history strictly after since, up to limit", async () => {
    const log = await openLog(newPrefix("rtl-read"));
    const seqs: string[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await log.append("chat", { n: i })).seq);
    for (let i = 1; i < seqs.length; i++) expect(compareSeq(seqs[i]!, seqs[i - 1]!)).toBeGreaterThan(0);
    const all = await log.readAfter("chat", undefined);
    expect(all.entries.map((e) => e.body)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    expect(all.recovered).toBe(true);
    const after = await log.readAfter("chat", seqs[1], 2);
    expect(after.entries.map((e) => e.seq)).toEqual([seqs[2]!, seqs[3]!]);
    const [first] = after.entries;
    expect({ topic: first?.topic, seq: first?.seq, ts: first?.ts, body: first?.body }).toEqual({
      topic: "chat",
      seq: seqs[2]!,
      ts: expect.any(Number),
      body: { n: 2 },
    });
    expect((await log.readAfter("relay", undefined)).entries).toEqual([]);
    // A topic without a stream (ephemeral, like cron) has no history and no tip to wait for.
    expect(await log.readAfter("cron", seqs[0])).toEqual({ entries: [], recovered: true });
  });

  it("never issues a <ms>-0 id, which belongs to a tick's ephemeral event in the same millisecond", async () => {
    const log = await openLog(newPrefix("rtl-nozero"));
    const entries = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append("chat", { i })));
    for (let i = 0; i < 5; i++) entries.push(await log.append("chat", { i }));
    expect(entries.filter((e) => e.seq.endsWith("-0"))).toEqual([]);
    expect(new Set(entries.map((e) => e.seq)).size).toBe(entries.length);
  });

  it("does not count a resume from a tick's <ms>-0 past every stream's end as recovered (entries numbered before it may not be delivered yet)", async () => {
    const log = await openLog(newPrefix("rtl-tick"));
    await log.append("chat", { n: 1 });
    const last = (await log.append("relay", { n: 1 })).seq;
    const ms = Number(last.split("-")[0]);
    // A cron tick after every entry: with Redis's clock behind this instance's, or the tail a
    // moment behind, an entry numbered before it can still come (SSE streams therefore give
    // their ticks ids of their own: connection.ts sendTick).
    const tick = `${ms + 1}-0`;
    expect(log.readRecent("chat", tick)).toBeUndefined();
    expect((await log.readAfter("chat", tick)).recovered).toBe(false);
    // One within the history is recovered as usual.
    expect((await log.readAfter("chat", `${ms}-0`)).recovered).toBe(true);
  });

  it("issues ids that increase across streams in append order, from two instances, within one millisecond too", async () => {
    const prefix = newPrefix("rtl-across");
    const [a, b] = [await openLog(prefix), await openLog(prefix)];
    // Pipelined: many appends land in the same millisecond, alternating streams and instances.
    const appends = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? b : a).append(i % 2 ? "relay" : "chat", { i }));
    const entries = await Promise.all(appends);
    const byId = [...entries].sort((x, y) => compareSeq(x.seq, y.seq));
    expect(new Set(entries.map((e) => e.seq)).size).toBe(entries.length);
    // Each instance's appends go out in order on its one connection: their ids increase in that order.
    for (const log of [a, b]) {
      const own = entries.filter((_, i) => (i % 3 === 0 ? b : a) === log).map((e) => e.seq);
      expect(own).toEqual([...own].sort(compareSeq));
    }
    // Some millisecond held entries of both streams (the case that gave both `<ms>-1`).
    const ms = (seq: string) => seq.split("-")[0];
    expect(byId.some((e, i) => i > 0 && ms(e.seq) === ms(byId[i - 1]!.seq) && e.topic !== byId[i - 1]!.topic)).toBe(true);
  });

  it("starts tailing at the end of each stream and delivers each new entry once, in order", async () => {
    const prefix = newPrefix("rtl-tail");
    const first = await openLog(prefix);
    await first.append("chat", { old: true });
    const log = await openLog(prefix);
    const seen: LogEntry[] = [];
    log.tail((e) => seen.push(e));
    const appended: string[] = [];
    for (let i = 0; i < 50; i++) appended.push((await log.append(i % 2 ? "relay" : "chat", { i })).seq);
    await until(() => seen.length >= 50, { message: () => `50 tailed entries (got ${seen.length})` });
    // Order is per topic (one stream each); one XREAD may return both streams' entries grouped.
    const byTopic = (topic: string) => seen.filter((e) => e.topic === topic).map((e) => e.seq);
    expect(byTopic("chat")).toEqual(appended.filter((_, i) => i % 2 === 0));
    expect(byTopic("relay")).toEqual(appended.filter((_, i) => i % 2 === 1));
    expect(seen.length).toBe(50);
    expect(seen.some((e) => e.body.old)).toBe(false);
    expect(log.lastDelivered("chat")).toBe(appended[48]);
  });

  it("hands entries appended on either of two instances to both, exactly once and in the same order", async () => {
    const prefix = newPrefix("rtl-two");
    const a = await openLog(prefix);
    const b = await openLog(prefix);
    const seenA: LogEntry[] = [];
    const seenB: LogEntry[] = [];
    a.tail((e) => seenA.push(e));
    b.tail((e) => seenB.push(e));
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).append("chat", { i })));
    await until(() => seenA.length >= 200, { message: () => `200 entries on a (got ${seenA.length})` });
    await until(() => seenB.length >= 200, { message: () => `200 entries on b (got ${seenB.length})` });
    expect(seenA.map((e) => e.seq)).toEqual(seenB.map((e) => e.seq));
    expect(new Set(seenA.map((e) => e.body.i)).size).toBe(200);
    const sorted = [...seenA].sort((x, y) => compareSeq(x.seq, y.seq));
    expect(seenA.map((e) => e.seq)).toEqual(sorted.map((e) => e.seq));
  });

  it("reports recovered: false when entries after since were trimmed away", async () => {
    const log = await openLog(newPrefix("rtl-trim"), { historySize: 10 });
    const first = (await log.append("chat", { i: 0 })).seq;
    // MAXLEN ~ trims whole radix-tree nodes (100 entries by default), so go well past one.
    for (let i = 1; i < 400; i++) await log.append("chat", { i });
    const stale = await log.readAfter("chat", first);
    expect(stale.recovered).toBe(false);
    expect(stale.entries.length).toBeLessThan(399);
    const newest = stale.entries.at(-3)!.seq;
    const fresh = await log.readAfter("chat", newest);
    expect(fresh.recovered).toBe(true);
    expect(fresh.entries.map((e) => e.body.i)).toEqual([398, 399]);
  });

  it("reports a tail gap before it delivers any entry after it, so a reset subscriber resumes from before it", async () => {
    const prefix = newPrefix("rtl-gap-order");
    const log = await openLog(prefix, { historySize: 10 });
    const events: string[] = [];
    let stalled = false;
    log.onGap((topic) => events.push(`gap ${topic}`));
    log.tail((entry) => {
      events.push(entry.seq);
      if (stalled) return;
      stalled = true;
      // This instance is busy while another writer appends 400 entries: its tail falls behind
      // the retention (MAXLEN ~ 10 trims whole nodes of 100).
      const adds = Array.from({ length: 400 }, (_, i) => `XADD ${prefix}:chat MAXLEN ~ 10 * d {} ts ${i} e ${entry.epoch}`).join("\n");
      const cli = Bun.spawnSync(["redis-cli", "-u", REDIS_URL], { stdin: new TextEncoder().encode(`${adds}\n`) });
      expect(cli.exitCode).toBe(0);
    });
    const first = await log.append("chat", { first: true });
    await until(() => events.includes("gap chat") && events.length > 3, { message: "the gap and the entries after it" });
    // Only the entry before the gap went out before the report.
    expect(events.slice(0, 2)).toEqual([first.seq, "gap chat"]);
    expect((await log.readAfter("chat", first.seq)).recovered).toBe(false);
  });

  it("after a tail gap, a resume from before it is not answered from the in-memory window (which has a hole there)", async () => {
    // A window larger than one read (HISTORY_SIZE > the tailer's COUNT): the first batch after
    // the gap does not push the entries from before it out, so the window holds both sides.
    const prefix = newPrefix("rtl-gap-window");
    const log = await openLog(prefix, { historySize: 300, readCount: 100 });
    let gaps = 0;
    let delivered = 0;
    let stalled = false;
    log.onGap(() => gaps++);
    log.tail((entry) => {
      delivered++;
      if (stalled) return;
      stalled = true;
      const adds = Array.from({ length: 500 }, (_, i) => `XADD ${prefix}:chat MAXLEN ~ 300 * d {} ts ${i} e ${entry.epoch}`).join("\n");
      const cli = Bun.spawnSync(["redis-cli", "-u", REDIS_URL], { stdin: new TextEncoder().encode(`${adds}\n`) });
      expect(cli.exitCode).toBe(0);
    });
    const first = await log.append("chat", { first: true });
    await until(() => gaps > 0 && delivered > 1, { message: "the gap and the batch after it" });
    // What a replay asks first (catch-up.ts): the window must not answer, or answer not recovered.
    const fromWindow = log.readRecent("chat", first.seq);
    expect(fromWindow === undefined || !fromWindow.recovered).toBe(true);
    expect((await log.readAfter("chat", first.seq)).recovered).toBe(false);
  });

  it("fills a page up to its limit, past the history size, when the stream still holds more (HISTORY_SIZE lowered)", async () => {
    const prefix = newPrefix("rtl-limitcap");
    const writer = await openLog(prefix, { historySize: 1000 });
    const seqs: string[] = [];
    for (let i = 0; i < 300; i++) seqs.push((await writer.append("chat", { i })).seq);
    // Restarted with a smaller HISTORY_SIZE: nothing was trimmed yet, all 300 are still retained.
    const reader = await openLog(prefix, { historySize: 10 });
    const page = await reader.readAfter("chat", seqs[0], 500);
    expect(page.entries.map((e) => e.seq)).toEqual(seqs.slice(1));
    expect(page.recovered).toBe(true);
    // A page is short only at the end: paging by 200 reaches every entry.
    const first = await reader.readAfter("chat", seqs[0], 200);
    expect(first.entries.map((e) => e.seq)).toEqual(seqs.slice(1, 201));
    const second = await reader.readAfter("chat", seqs[200], 200);
    expect(second.entries.map((e) => e.seq)).toEqual(seqs.slice(201));
    expect([first.recovered, second.recovered]).toEqual([true, true]);
  });

  it("rejects appends past maxInFlight as overloaded, and every accepted append is stored", async () => {
    const log = await openLog(newPrefix("rtl-bound"), { maxInFlight: 4 });
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => log.append("chat", { i })));
    const accepted = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.seq] : []));
    const rejected = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(accepted.length).toBeGreaterThanOrEqual(4);
    expect(rejected.length).toBeGreaterThan(0);
    for (const error of rejected) expect(error).toBeInstanceOf(LogUnavailableError);
    expect(rejected[0].reason).toBe("overloaded");
    const stored = (await log.readAfter("chat", undefined)).entries.map((e) => e.seq);
    expect(stored).toEqual(accepted);
  });

  it("stores an entry with a claim only above the shared counter, atomically, across instances", async () => {
    const prefix = newPrefix("rtl-claim");
    const [a, b] = [await openLog(prefix), await openLog(prefix)];
    const claim = (value: number) => ({ claim: { name: "chat:last-id", value } });
    const first = await a.append("chat", { n: 1 }, claim(1000));
    // Another instance asking for the same value, or a lower one, loses and stores nothing.
    for (const value of [1000, 999]) {
      const lost = await b.append("chat", { n: 2 }, claim(value)).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(ClaimConflictError);
      expect((lost as ClaimConflictError).current).toBe(1000);
    }
    const second = await b.append("chat", { n: 3 }, claim(1001));
    expect(compareSeq(second.seq, first.seq)).toBeGreaterThan(0);
    expect((await a.readAfter("chat", undefined)).entries.map((e) => e.body)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(await clients[0]!.sendCommand(["GET", `${prefix}:chat:last-id`])).toBe("1001");
    // Without a claim nothing is checked.
    await a.append("chat", { n: 4 });
  });

  it("refuses topics outside its fixed set and stops without waiting out XREAD BLOCK", async () => {
    const log = await openLog(newPrefix("rtl-stop"), { blockMs: 5000 });
    expect(log.append("timer:1", {})).rejects.toThrow(/not a durable root topic/);
    expect(log.healthy()).toBe(true);
    const started = performance.now();
    await log.stop();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(log.healthy()).toBe(false);
  });
});
