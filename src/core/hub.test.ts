import { describe, expect, it } from "bun:test";
import { VirtualClock } from "../../test/support/virtual-clock.ts";
import { Hub, type ReplayTarget, type WsFanout } from "./hub.ts";
import { MemoryTopicLog } from "./memory-topic-log.ts";
import type { HistoryRead, LogEntry, TopicLog } from "./topic-log.ts";

/** Records what the hub hands to native pub/sub; every topic has one subscriber. */
class RecordingFanout implements WsFanout {
  published: { topic: string; data: string }[] = [];
  publish(topic: string, data: string): number {
    this.published.push({ topic, data });
    return data.length;
  }
  subscriberCount(): number {
    return 1;
  }
}

function setup(historySize = 100) {
  const clock = new VirtualClock();
  const log = new MemoryTopicLog({ historySize, clock });
  const hub = new Hub({ log, clock });
  const ws = new RecordingFanout();
  hub.attach(ws);
  return { clock, log, hub, ws };
}

function recordingTarget(): ReplayTarget & { frames: any[]; live: boolean; notRecoveredCalls: number } {
  const t = {
    frames: [] as any[],
    live: false,
    notRecoveredCalls: 0,
    closed: false,
    send(frame: string) {
      t.frames.push(JSON.parse(frame));
      return true;
    },
    notRecovered() {
      t.notRecoveredCalls++;
    },
    goLive() {
      t.live = true;
    },
    overflowed() {
      throw new Error("unexpected overflow");
    },
  };
  return t;
}

describe("Hub", () => {
  it("publishes an ephemeral event on each topic with the body serialized into every frame", () => {
    const { hub, ws, clock } = setup();
    const tickAt = Math.floor(clock.now() / 1000) * 1000;
    hub.emit(["a", "b"], { event: "x", n: 1 }, { tickAt, deadline: tickAt + 1000 });
    expect(ws.published.map((p) => [p.topic, JSON.parse(p.data)])).toEqual([
      ["a", { topic: "a", seq: `${tickAt}-0`, ts: tickAt, event: "x", n: 1 }],
      ["b", { topic: "b", seq: `${tickAt}-0`, ts: tickAt, event: "x", n: 1 }],
    ]);
  });

  it("drops an ephemeral event past its deadline instead of delivering it late, and counts it", () => {
    const clock = new VirtualClock();
    const drops: [string, string, number][] = [];
    const hub = new Hub({
      log: new MemoryTopicLog({ historySize: 10, clock }),
      clock,
      metrics: { published() {}, delivered() {}, fanoutLatency() {}, dropped: (t, r, n) => drops.push([t, r, n]) },
    });
    const ws = new RecordingFanout();
    hub.attach(ws);
    hub.emit(["cron", "timer:1"], { late: true }, { tickAt: clock.now() - 2000, deadline: clock.now() - 1000 });
    expect(ws.published).toEqual([]);
    expect(drops).toEqual([["cron", "deadline", 1], ["timer", "deadline", 1]]);
  });

  it("delivers durable events through the log, in log order", async () => {
    const { hub, ws } = setup();
    const a = await hub.append("chat", { n: 1 });
    const b = await hub.append("chat", { n: 2 });
    expect(ws.published.map((p) => JSON.parse(p.data).seq)).toEqual([a.seq, b.seq]);
    expect(hub.lastDelivered("chat")).toBe(b.seq);
  });

  it("replays history after since, then goes live, with no gap and no duplicate", async () => {
    const { hub } = setup();
    const seqs: string[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await hub.append("chat", { i })).seq);
    const target = recordingTarget();
    await hub.replay("chat", seqs[1], target);
    expect(target.frames.map((f) => f.i)).toEqual([2, 3, 4]);
    expect(target.live).toBe(true);
  });

  it("tells a reader older than retained history that it was not recovered", async () => {
    const { hub } = setup(2);
    const first = await hub.append("chat", { i: 0 });
    for (let i = 1; i < 4; i++) await hub.append("chat", { i });
    const target = recordingTarget();
    await hub.replay("chat", first.seq, target);
    expect(target.notRecoveredCalls).toBe(1);
    expect(target.frames.map((f) => f.i)).toEqual([2, 3]);
  });

  it("holds live entries that arrive while a slow log reads history, and sends each once", async () => {
    const clock = new VirtualClock();
    const inner = new MemoryTopicLog({ historySize: 100, clock });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: TopicLog = {
      append: (t, b) => inner.append(t, b),
      readAfter: async (t, s, l): Promise<HistoryRead> => {
        const read = await inner.readAfter(t, s, l); // snapshot now, answer later
        await gate;
        return read;
      },
      tail: (l) => inner.tail(l),
      lastDelivered: (t) => inner.lastDelivered(t),
      healthy: () => true,
      stop: () => inner.stop(),
    };
    const hub = new Hub({ log: slow, clock });
    hub.attach(new RecordingFanout());
    for (let i = 0; i < 3; i++) await hub.append("chat", { i });
    const target = recordingTarget();
    const replaying = hub.replay("chat", undefined, target);
    for (let i = 3; i < 6; i++) await hub.append("chat", { i }); // live while history is read
    release();
    await replaying;
    await hub.append("chat", { i: 6 });
    expect(target.frames.map((f) => f.i)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(target.live).toBe(true);
  });

  it("delivers derived topics with the parent's seq and replays them from the parent log", async () => {
    const { hub, ws } = setup();
    hub.derive({
      parent: "timers",
      topicsOf: (e: LogEntry) => [`timer:${(e.body as any).id}`],
      matches: (t) => t.startsWith("timer:"),
    });
    const e1 = await hub.append("timers", { id: 1 });
    await hub.append("timers", { id: 2 });
    expect(ws.published.map((p) => [p.topic, JSON.parse(p.data).seq])).toEqual([
      ["timers", e1.seq],
      ["timer:1", e1.seq],
      ["timers", ws.published[2] && JSON.parse(ws.published[2].data).seq],
      ["timer:2", JSON.parse(ws.published[3]!.data).seq],
    ]);
    const target = recordingTarget();
    await hub.replay("timer:2", undefined, target);
    expect(target.frames.map((f) => [f.topic, f.id])).toEqual([["timer:2", 2]]);
  });

  it("reports a native publish drop: overflow per socket for durable frames, backpressure for ephemeral", async () => {
    const clock = new VirtualClock();
    const drops: [string, string, number][] = [];
    const hub = new Hub({
      log: new MemoryTopicLog({ historySize: 10, clock }),
      clock,
      metrics: { published() {}, delivered() {}, fanoutLatency() {}, dropped: (t, r, n) => drops.push([t, r, n]) },
    });
    const asked: [string, boolean][] = [];
    hub.attach({ publish: () => 0, subscriberCount: () => 3, dropped: (t, _b, e) => (asked.push([t, e]), 2) });
    await hub.append("chat", { n: 1 });
    const tickAt = Math.floor(clock.now() / 1000) * 1000;
    hub.emit(["cron"], { n: 2 }, { tickAt, deadline: tickAt + 1000 });
    // Durable: the backed-up sockets are found (and closed by the server). Ephemeral: counted once,
    // without a scan of the sockets (that would stall the ticker with many timers).
    expect(asked).toEqual([["chat", false]]);
    expect(drops).toEqual([["chat", "overflow", 2], ["cron", "backpressure", 1]]);
  });

  it("disconnects live subscribers of a topic and its derived topics when the log reports a gap", () => {
    const clock = new VirtualClock();
    const inner = new MemoryTopicLog({ historySize: 10, clock });
    let reportGap!: (topic: string) => void;
    const log: TopicLog = Object.assign(Object.create(inner), {
      tail: (l: any) => inner.tail(l),
      onGap: (listener: (topic: string) => void) => ((reportGap = listener), () => {}),
    });
    const hub = new Hub({ log, clock });
    hub.derive({ parent: "timers", topicsOf: () => [], matches: (t) => t.startsWith("timer:") });
    const matched: string[] = [];
    hub.attach({
      publish: () => 1,
      subscriberCount: () => 1,
      closeSubscribers: (match) => ["timers", "timer:7", "chat"].filter((t) => match(t) && matched.push(t)).length,
    });
    const overflowed: string[] = [];
    hub.addSse("timer:7", { send() {}, overflow: () => overflowed.push("timer:7") });
    hub.addSse("chat", { send() {}, overflow: () => overflowed.push("chat") });
    reportGap("timers");
    expect(matched).toEqual(["timers", "timer:7"]);
    expect(overflowed).toEqual(["timer:7"]);
  });

  it("passes every durable entry to taps with its frame", async () => {
    const { hub } = setup();
    const seen: string[] = [];
    const untap = hub.tap("relay", (entry, frame) => seen.push(`${entry.body.message}|${JSON.parse(frame).topic}`));
    await hub.append("relay", { message: "hi" });
    untap();
    await hub.append("relay", { message: "ignored" });
    expect(seen).toEqual(["hi|relay"]);
  });
});
