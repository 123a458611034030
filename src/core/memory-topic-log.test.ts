import { describe, expect, it } from "bun:test";
import { MemoryTopicLog } from "./memory-topic-log.ts";
import { compareSeq } from "./seq.ts";
import type { LogEntry } from "./topic-log.ts";
import { VirtualClock } from "./virtual-clock.ts";

describe("MemoryTopicLog", () => {
  it("appends with strictly increasing seqs and tails every entry in order", async () => {
    const clock = new VirtualClock();
    const log = new MemoryTopicLog({ historySize: 100, clock });
    const seen: LogEntry[] = [];
    log.tail((e) => seen.push(e));
    for (let i = 0; i < 10; i++) {
      await log.append(i % 2 ? "a" : "b", { i });
      if (i % 3 === 0) clock.stall(1);
    }
    expect(seen.map((e) => e.body.i)).toEqual([...Array(10).keys()]);
    for (let i = 1; i < seen.length; i++) expect(compareSeq(seen[i]!.seq, seen[i - 1]!.seq)).toBeGreaterThan(0);
    expect(log.lastDelivered("a")).toBe(seen[9]!.seq);
  });

  it("answers not recovered for an offset of an earlier process whose clock was ahead of this one's", async () => {
    const before = new MemoryTopicLog({ historySize: 100, clock: new VirtualClock(1_700_000_010_000) });
    const old = await before.append("t", { i: 0 });
    const clock = new VirtualClock(1_700_000_002_000); // restarted 2 s later, on a clock 10 s behind
    const log = new MemoryTopicLog({ historySize: 100, clock });
    const fresh = [await log.append("t", { i: 1 }), await log.append("t", { i: 2 })];
    expect(compareSeq(fresh[0]!.seq, old.seq)).toBeLessThan(0);
    expect((await log.readAfter("t", old.seq)).recovered).toBe(false);
    expect((await log.readAfter("missing", old.seq)).recovered).toBe(false);
    expect(await log.readAfter("t", fresh[0]!.seq)).toMatchObject({ recovered: true, entries: [fresh[1]] });
    expect((await log.readAfter("t", `${fresh[1]!.seq}.3`)).recovered).toBe(true);
    expect((await log.readAfter("t", `${clock.now()}-0`)).recovered).toBe(true);
  });

  it("reads strictly after a seq, per topic, with a limit", async () => {
    const log = new MemoryTopicLog({ historySize: 100, clock: new VirtualClock() });
    const entries = [];
    for (let i = 0; i < 5; i++) entries.push(await log.append("t", { i }));
    await log.append("other", { i: 99 });
    const after = await log.readAfter("t", entries[1]!.seq);
    expect(after).toEqual({ entries: entries.slice(2), recovered: true, epoch: log.epoch().id });
    expect((await log.readAfter("t", undefined, 2)).entries).toEqual(entries.slice(0, 2));
    expect(await log.readAfter("missing", entries[0]!.seq)).toEqual({ entries: [], recovered: true, epoch: log.epoch().id });
    // A seq from before this log existed belongs to another epoch (a previous process): not recovered.
    expect(await log.readAfter("missing", "1-0")).toEqual({ entries: [], recovered: false, epoch: log.epoch().id });
    // Offsets that are not in the log (another topic's seq, an ephemeral `<tick>-0`) still split it.
    expect((await log.readAfter("t", `${entries[2]!.seq}9`)).entries).toEqual([]); // far after the newest
    expect((await log.readAfter("t", "0-0")).entries).toEqual(entries);
    expect((await log.readAfter("t", "99999999999999-0")).entries).toEqual([]);
  });

  it("keeps HISTORY_SIZE entries and reports a reader older than them as not recovered", async () => {
    const log = new MemoryTopicLog({ historySize: 3, clock: new VirtualClock() });
    const entries = [];
    for (let i = 0; i < 5; i++) entries.push(await log.append("t", { i }));
    const all = await log.readAfter("t", undefined);
    expect(all.entries.map((e) => e.body.i)).toEqual([2, 3, 4]);
    expect((await log.readAfter("t", entries[0]!.seq)).recovered).toBe(false);
    expect((await log.readAfter("t", entries[1]!.seq)).recovered).toBe(true);
  });
});
