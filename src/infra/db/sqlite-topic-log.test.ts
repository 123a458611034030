import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { count, eq } from "drizzle-orm";
import { systemClock } from "../../core/clock.ts";
import { compareSeq } from "../../core/seq.ts";
import type { LogEntry } from "../../core/topic-log.ts";
import { VirtualClock } from "../../core/virtual-clock.ts";
import { type Database, openDatabase } from "./database.ts";
import { topicLog } from "./schema-sqlite.ts";
import { SqliteTopicLog, type SqliteTopicLogOptions } from "./sqlite-topic-log.ts";

const root = mkdtempSync(join(tmpdir(), "tickwire-sqlite-log-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

/** A fresh database file; `reopen` closes it and opens the same file again (or a new one in its place). */
async function fixture(opts: Partial<Omit<SqliteTopicLogOptions, "db">> = {}) {
  const file = join(root, `log-${++files}`, "x.db");
  let handle: Database;
  const open = async () => {
    handle = await openDatabase(`sqlite:${file}`);
    if (handle.dialect !== "sqlite") throw new Error("expected sqlite");
    return new SqliteTopicLog({ historySize: 100, clock: new VirtualClock(), ...opts, db: handle.db });
  };
  const fx = {
    file,
    log: await open(),
    get db() {
      if (handle.dialect !== "sqlite") throw new Error("expected sqlite");
      return handle.db;
    },
    get client() {
      if (handle.dialect !== "sqlite") throw new Error("expected sqlite");
      return handle.client;
    },
    async reopen(more: Partial<Omit<SqliteTopicLogOptions, "db">> = {}, replaceFile = false) {
      await fx.log.stop();
      await handle.close();
      if (replaceFile) rmSync(dirname(file), { recursive: true, force: true });
      Object.assign(opts, more);
      fx.log = await open();
      return fx.log;
    },
    rows(topic: string): number {
      return fx.db.select({ c: count() }).from(topicLog).where(eq(topicLog.topic, topic)).get()!.c;
    },
    close: () => handle.close(),
  };
  return fx;
}

describe("SqliteTopicLog", () => {
  it("appends with strictly increasing seqs and tails every entry in order", async () => {
    const clock = new VirtualClock();
    const fx = await fixture({ clock });
    const seen: LogEntry[] = [];
    fx.log.tail((e) => seen.push(e));
    for (let i = 0; i < 10; i++) {
      await fx.log.append(i % 2 ? "a" : "b", { i });
      if (i % 3 === 0) clock.stall(1);
    }
    expect(seen.map((e) => e.body.i)).toEqual([...Array(10).keys()]);
    for (let i = 1; i < seen.length; i++) expect(compareSeq(seen[i]!.seq, seen[i - 1]!.seq)).toBeGreaterThan(0);
    expect(fx.log.lastDelivered("a")).toBe(seen[9]!.seq);
    await fx.close();
  });

  it("reads strictly after a seq, per topic, with a limit, tagged with the topic's epoch", async () => {
    const fx = await fixture();
    const { log } = fx;
    const entries = [];
    for (let i = 0; i < 5; i++) entries.push(await log.append("t", { i }));
    await log.append("other", { i: 99 });
    const epoch = log.epoch("t").id;
    expect(epoch).toMatch(/^[0-9a-f]{8}$/);
    expect(entries.every((e) => e.epoch === epoch)).toBe(true);
    expect(await log.readAfter("t", entries[1]!.seq)).toEqual({ entries: entries.slice(2), recovered: true, epoch });
    expect((await log.readAfter("t", undefined, 2)).entries).toEqual(entries.slice(0, 2));
    // A topic this file never stored: an offset from before the log was opened is from a history
    // not held; one after it lost nothing. No epoch is created by reading (bounded memory).
    expect(await log.readAfter("missing", "1-0")).toEqual({ entries: [], recovered: false });
    expect(await log.readAfter("missing", entries[0]!.seq)).toEqual({ entries: [], recovered: true });
    expect(await log.readAfter("missing", undefined)).toEqual({ entries: [], recovered: true });
    // Offsets that are not in the log (another topic's seq, an ephemeral `<tick>-0`) still split it.
    expect((await log.readAfter("t", `${entries[2]!.seq}9`)).entries).toEqual([]); // far after the newest
    expect((await log.readAfter("t", "0-0")).entries).toEqual(entries);
    expect((await log.readAfter("t", "99999999999999-0")).entries).toEqual([]);
    await fx.close();
  });

  it("keeps HISTORY_SIZE entries and reports a reader older than them as not recovered, before and after a reopen", async () => {
    const fx = await fixture({ historySize: 3 });
    const entries = [];
    for (let i = 0; i < 5; i++) entries.push(await fx.log.append("t", { i }));
    for (const log of [fx.log, await fx.reopen()]) {
      const all = await log.readAfter("t", undefined);
      expect(all.entries.map((e) => e.body.i)).toEqual([2, 3, 4]);
      expect((await log.readAfter("t", entries[0]!.seq)).recovered).toBe(false);
      expect((await log.readAfter("t", entries[1]!.seq)).recovered).toBe(true);
    }
    await fx.close();
  });

  it("trims the table to HISTORY_SIZE rows per topic, a batch of evicted rows at a time", async () => {
    const fx = await fixture({ historySize: 5, trimEvery: 4 });
    for (let i = 0; i < 50; i++) {
      await fx.log.append("t", { i });
      // historySize + trimEvery + the newest evicted row, kept as the gap marker.
      expect(fx.rows("t")).toBeLessThanOrEqual(5 + 4 + 1);
    }
    // A smaller HISTORY_SIZE trims at the next start.
    const log = await fx.reopen({ historySize: 2 });
    expect(fx.rows("t")).toBe(2 + 1);
    expect((await log.readAfter("t", undefined)).entries.map((e) => e.body.i)).toEqual([48, 49]);
    await fx.close();
  });

  it("still reports trimmed entries as a gap after HISTORY_SIZE is raised across a restart", async () => {
    const fx = await fixture({ historySize: 3, trimEvery: 1 });
    const entries = [];
    for (let i = 0; i < 10; i++) entries.push(await fx.log.append("t", { i }));
    const log = await fx.reopen({ historySize: 100 });
    const kept = (await log.readAfter("t", undefined)).entries.map((e) => e.body.i as number);
    expect(kept.length).toBeGreaterThan(3); // the evicted rows not trimmed yet come back too
    expect(kept).toEqual([...Array(10).keys()].slice(kept[0]));
    expect((await log.readAfter("t", entries[kept[0]! - 1]!.seq)).recovered).toBe(true);
    expect((await log.readAfter("t", entries[kept[0]! - 2]!.seq)).recovered).toBe(false);
    await fx.close();
  });

  it("stores and delivers an event id once, even when it is appended again after a reopen", async () => {
    const fx = await fixture();
    const first = await fx.log.append("timers:1", { type: "paused" }, { eventId: "ev-1" });
    expect(await fx.log.append("timers:1", { type: "paused" }, { eventId: "ev-1" })).toMatchObject({ seq: first.seq });
    const log = await fx.reopen();
    const seen: LogEntry[] = [];
    log.tail((e) => seen.push(e));
    const again = await log.append("timers:1", { type: "paused" }, { eventId: "ev-1" });
    expect({ seq: again.seq, ts: again.ts, json: again.json, body: again.body, epoch: again.epoch }).toEqual({
      seq: first.seq,
      ts: first.ts,
      json: first.json,
      body: { type: "paused" },
      epoch: first.epoch,
    });
    expect(seen).toEqual([]);
    expect(fx.rows("timers:1")).toBe(1);
    expect((await log.readAfter("timers:1", undefined)).entries.map((e) => e.seq)).toEqual([first.seq]);
    await fx.close();
  });

  it("keeps seqs increasing across a reopen, even when the clock went back", async () => {
    const fx = await fixture({ clock: new VirtualClock(1_700_000_000_000) });
    const before = await fx.log.append("chat:r", { text: "before" });
    const log = await fx.reopen({ clock: new VirtualClock(1_699_999_000_000) });
    const after = await log.append("chat:r", { text: "after" });
    expect(compareSeq(after.seq, before.seq)).toBeGreaterThan(0);
    expect(log.lastDelivered("chat:r")).toBe(after.seq);
    const read = await log.readAfter("chat:r", undefined);
    expect(read.entries.map((e) => [e.seq, e.json])).toEqual([
      [before.seq, before.json],
      [after.seq, after.json],
    ]);
    expect(read).toMatchObject({ recovered: true, epoch: before.epoch });
    await fx.close();
  });

  it("answers not recovered for an offset older than the epoch, and starts a new epoch when the file is replaced", async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const fx = await fixture({ clock });
    const entry = await fx.log.append("chat:r", { text: "hi" });
    const epoch = fx.log.epoch("chat:r");
    expect(epoch.start).toBe("1700000000000-0");
    expect((await fx.log.readAfter("chat:r", "1699999999999-5")).recovered).toBe(false);
    expect((await fx.log.readAfter("chat:r", epoch.start)).recovered).toBe(true);

    clock.stall(60_000);
    const log = await fx.reopen({}, true);
    const next = log.epoch("chat:r");
    expect(next.id).not.toBe(epoch.id);
    expect(next.start).toBe("1700000060000-0");
    expect(await log.readAfter("chat:r", entry.seq)).toEqual({ entries: [], recovered: false, epoch: next.id });
    await fx.close();
  });

  it("answers not recovered for an offset of a replaced file written on a clock that has stepped back since", async () => {
    const fx = await fixture({ clock: new VirtualClock(1_700_000_010_000) });
    const old = await fx.log.append("chat:r", { text: "old" });
    const clock = new VirtualClock(1_700_000_000_000); // 10 s behind: the new seqs sort before the old one
    const log = await fx.reopen({ clock }, true);
    const fresh = [await log.append("chat:r", { text: "new 1" }), await log.append("chat:r", { text: "new 2" })];
    expect(compareSeq(fresh[1]!.seq, old.seq)).toBeLessThan(0);
    expect(await log.readAfter("chat:r", old.seq)).toMatchObject({ recovered: false });
    expect(await log.readAfter("other", old.seq)).toMatchObject({ recovered: false });
    // This file's own offsets, a tick's and an ephemeral frame's, still resume.
    expect(await log.readAfter("chat:r", fresh[0]!.seq)).toMatchObject({ recovered: true, entries: [fresh[1]] });
    expect((await log.readAfter("chat:r", `${fresh[1]!.seq}.7`)).recovered).toBe(true);
    expect((await log.readAfter("chat:r", `${clock.now()}-0`)).recovered).toBe(true);
    await fx.close();
  });

  it("keeps an epoch across a reopen once the topic has stored an entry", async () => {
    const fx = await fixture();
    const readOnly = fx.log.epoch("chat:quiet");
    const written = fx.log.epoch("chat:busy");
    await fx.log.append("chat:busy", { text: "hi" });
    const log = await fx.reopen();
    expect(log.epoch("chat:busy")).toEqual(written);
    // A topic that was only read held nothing to lose; its epoch was not written.
    expect(log.epoch("chat:quiet").id).not.toBe(readOnly.id);
    await fx.close();
  });

  it("starts the epoch of a topic first used after the file was opened at the opening: an offset from between resumes it", async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const fx = await fixture({ clock });
    clock.advance(1000);
    const timer = await fx.log.append("timers", { type: "TIMER_CREATE" });
    clock.advance(1000);
    fx.log.epoch("chat:read"); // its position asked for before its first entry (a subscribe's ack)
    clock.advance(1000);
    const entries = [await fx.log.append("chat:read", { text: "hi" }), await fx.log.append("chat:new", { text: "hi" })];
    // A socket on timers and chat resumes both from the timer's seq: nothing of chat was lost.
    const resumed = async (log: SqliteTopicLog, topic: string) => {
      const read = await log.readAfter(topic, timer.seq);
      return { recovered: read.recovered, seqs: read.entries.map((e) => e.seq) };
    };
    for (const entry of entries) expect(await resumed(fx.log, entry.topic)).toEqual({ recovered: true, seqs: [entry.seq] });
    const log = await fx.reopen();
    for (const entry of entries) expect(await resumed(log, entry.topic)).toEqual({ recovered: true, seqs: [entry.seq] });
    // Before the file was opened it held nothing of them either, but the offset is another file's.
    expect((await log.readAfter("chat:new", "1699999999999-1")).recovered).toBe(false);
    await fx.close();
  });

  it("measures the cost of an append (printed, not asserted)", async () => {
    const fx = await fixture({ historySize: 1000, clock: systemClock });
    const body = { user: "alice", text: "hello there, this is a chat message" };
    let ids = 0;
    /** µs per call of `fn`, over about 200 ms. */
    const cost = (fn: () => void) => {
      const start = performance.now();
      let n = 0;
      while (performance.now() - start < 200) for (let i = 0; i < 20; i++, n++) fn();
      return (((performance.now() - start) * 1000) / n).toFixed(1);
    };
    const measure = () => {
      const plain = cost(() => fx.log.appendSync("chat:bench", body));
      const withId = cost(() => fx.log.appendSync("timers:bench", body, { eventId: `bench-${++ids}` }));
      // Ids still retained (older ones were trimmed with their rows and would be stored again).
      let again = 0;
      const duplicate = cost(() => fx.log.appendSync("timers:bench", body, { eventId: `bench-${ids - (again++ % 500)}` }));
      return `${plain} µs, with an event id ${withId} µs, a duplicate event id ${duplicate} µs`;
    };
    for (let i = 0; i < 1000; i++) fx.log.appendSync("warm", body);
    // The connection's default (FULL: every commit fsyncs the WAL), then NORMAL on this
    // connection only (WAL commits survive a killed process; fsync at checkpoints).
    const full = measure();
    fx.client.exec("PRAGMA synchronous = NORMAL");
    const normal = measure();
    console.log(`SqliteTopicLog append, ${fx.file}\n  synchronous=FULL:   ${full}\n  synchronous=NORMAL: ${normal}`);
    expect(fx.rows("chat:bench")).toBeLessThanOrEqual(1000 + 64 + 1);
    await fx.close();
  });
});
