import { describe, expect, it } from "bun:test";
import type { ReplayTarget } from "./catch-up.ts";
import { Hub } from "./hub.ts";
import { MemoryTopicLog } from "./memory-topic-log.ts";
import { compareSeq } from "./seq.ts";
import type { HistoryRead, LogEntry, TopicLog } from "./topic-log.ts";
import type { Transport } from "./transport.ts";
import { VirtualClock } from "./virtual-clock.ts";

/**
 * A transport with no Bun behind it: records what the hub hands it; every topic has one
 * subscriber unless `subscribed` says otherwise.
 */
class RecordingTransport implements Transport {
  published: { topic: string; data: string; seq: string; ephemeral: boolean }[] = [];
  resets: string[] = [];
  constructor(readonly subscribed: (topic: string) => boolean = () => true) {}
  receivers(topic: string): number {
    return this.subscribed(topic) ? 1 : 0;
  }
  deliver(topic: string, data: string, seq: string, ephemeral: boolean): number {
    this.published.push({ topic, data, seq, ephemeral });
    return 1;
  }
  reset(affected: (topic: string) => boolean): number {
    const hit = ["timers", "timer:7", "chat"].filter((t) => this.subscribed(t) && affected(t));
    this.resets.push(...hit);
    return hit.length;
  }
}

function setup(historySize = 100) {
  const clock = new VirtualClock();
  const log = new MemoryTopicLog({ historySize, clock });
  const hub = new Hub({ log, clock });
  const ws = new RecordingTransport();
  hub.addTransport(ws);
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
    const ws = new RecordingTransport();
    hub.addTransport(ws);
    hub.emit(["cron", "timer:1"], { late: true }, { tickAt: clock.now() - 2000, deadline: clock.now() - 1000 });
    expect(ws.published).toEqual([]);
    expect(drops).toEqual([
      ["cron", "deadline", 1],
      ["timer", "deadline", 1],
    ]);
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
    hub.addTransport(new RecordingTransport());
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

  it("hands each frame to every transport with a receiver, and to no other", async () => {
    const clock = new VirtualClock();
    const hub = new Hub({ log: new MemoryTopicLog({ historySize: 10, clock }), clock });
    const ws = new RecordingTransport((t) => t === "chat");
    const sse = new RecordingTransport((t) => t === "chat" || t === "cron");
    hub.addTransport(ws);
    hub.addTransport(sse);
    const entry = await hub.append("chat", { n: 1 });
    const tickAt = Math.floor(clock.now() / 1000) * 1000;
    hub.emit(["cron"], { n: 2 }, { tickAt, deadline: tickAt + 1000 });
    expect(ws.published.map((p) => [p.topic, p.seq, p.ephemeral])).toEqual([["chat", entry.seq, false]]);
    expect(sse.published.map((p) => [p.topic, p.seq, p.ephemeral])).toEqual([
      ["chat", entry.seq, false],
      ["cron", `${tickAt}-0`, true],
    ]);
    // One frame string per topic and event, shared by every transport.
    expect(sse.published[0]!.data).toBe(ws.published[0]!.data);
  });

  it("disconnects live subscribers of a topic and its derived topics when the log reports a gap", async () => {
    const clock = new VirtualClock();
    const inner = new MemoryTopicLog({ historySize: 10, clock });
    let reportGap!: (topic: string) => void;
    const log: TopicLog = Object.assign(Object.create(inner), {
      tail: (l: any) => inner.tail(l),
      readAfter: (topic: string, since: string | undefined) => inner.readAfter(topic, since),
      lastDelivered: (topic: string) => inner.lastDelivered(topic),
      onGap: (listener: (topic: string) => void) => ((reportGap = listener), () => {}),
    });
    const hub = new Hub({ log, clock });
    hub.derive({ parent: "timers", topicsOf: () => [], matches: (t) => t.startsWith("timer:") });
    const ws = new RecordingTransport();
    const sse = new RecordingTransport((t) => t !== "timers");
    hub.addTransport(ws);
    hub.addTransport(sse);
    // A subscriber that sent its history but is not live yet (on the direct path) is not the
    // transports' to find: it is ended too, so that it resumes and is told.
    let overflowed = 0;
    const direct = { closed: false, send: () => true, notRecovered() {}, goLive() {}, overflowed: () => void overflowed++, mayGoLive: () => false };
    await hub.replay("timer:7", "0-0", direct);
    reportGap("timers");
    expect(ws.resets).toEqual(["timers", "timer:7"]);
    expect(sse.resets).toEqual(["timer:7"]);
    expect(overflowed).toBe(1);
  });

  it("numbers ephemeral frames after the clock, so that hubs started at other times order alike", () => {
    const clock = new VirtualClock();
    const log = new MemoryTopicLog({ historySize: 10, clock });
    const hubOn = () => {
      const hub = new Hub({ log, clock, durableRoots: ["timers"] });
      const transport = new RecordingTransport();
      hub.addTransport(transport);
      return { hub, lastSeq: () => transport.published.at(-1)!.seq };
    };
    const tick = () => ({ deadline: clock.now() + 1000, tickAt: clock.now() });
    const a = hubOn();
    for (let i = 0; i < 50; i++) a.hub.emit(["timers"], { i }, tick());
    clock.advance(5000);
    const b = hubOn(); // another instance, started later
    b.hub.emit(["timers"], {}, tick());
    clock.advance(1);
    a.hub.emit(["timers"], {}, tick()); // later in time: after B's frame, for a client moving from B to A
    expect(compareSeq(a.lastSeq(), b.lastSeq())).toBeGreaterThan(0);
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
