import { describe, expect, it } from "bun:test";
import { Hub } from "./hub.ts";
import { type HubMetrics, noopHubMetrics } from "./hub-metrics.ts";
import { MemoryTopicLog } from "./memory-topic-log.ts";
import { ReplayLimits } from "./replay-limits.ts";
import { ResumeGroup } from "./resume-group.ts";
import { compareSeq } from "./seq.ts";
import { type Subscriber, Subscriptions } from "./subscriptions.ts";
import { VirtualClock } from "./virtual-clock.ts";

/** A connection as the subscribe path sees it: replayed writes and live frames in one stream. */
function stream() {
  const out: { topic: string; seq: string; ephemeral: boolean }[] = [];
  const live = new Set<string>();
  const sub: Subscriber = {
    closed: false,
    write: (topic, _frame, seq, ephemeral) => (out.push({ topic, seq, ephemeral }), true),
    live: (topic) => void live.add(topic),
    unlive: (topic) => void live.delete(topic),
    notRecovered: () => {},
    overflowed: () => {
      throw new Error("unexpected overflow");
    },
    replayFailed: (topic, error) => {
      throw new Error(`replay of ${topic} failed: ${String(error)}`);
    },
  };
  return { out, live, sub };
}

function setup() {
  const clock = new VirtualClock();
  const dropped: string[] = [];
  const metrics: HubMetrics = { ...noopHubMetrics, dropped: (family, reason) => void dropped.push(`${family} ${reason}`) };
  const log = new MemoryTopicLog({ historySize: 1000, clock });
  const hub = new Hub({ log, clock, metrics, durableRoots: ["chat", "relay"] });
  const s = stream();
  // Live frames reach the connection like a transport would: only on the topics it went live on.
  hub.addTransport({
    receivers: (topic) => (s.live.has(topic) ? 1 : 0),
    deliver: (topic, _frame, seq, ephemeral) => (s.live.has(topic) ? (s.out.push({ topic, seq, ephemeral }), 1) : 0),
    reset: () => 0,
  });
  return { clock, log, hub, dropped, ...s };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("ResumeGroup: several topics resumed from one offset", () => {
  it("sends every entry after the offset in seq order across the topics, live ones included, then goes live", async () => {
    const { clock, log, hub, out, live, sub, dropped } = setup();
    const since = log.appendSync("chat", { n: "since" }).seq;
    const expected: string[] = [];
    // A long chat history (replayed in slices of 64) and a short relay one, interleaved in time.
    for (let i = 0; i < 300; i++) {
      clock.advance(1);
      expected.push(log.appendSync(i % 50 === 0 ? "relay" : "chat", { i }).seq);
    }
    const subs = new Subscriptions(hub, sub);
    subs.addAll(["chat", "relay"], { since });
    // While chat is still replaying: live entries on both topics, and a tick on one.
    for (let i = 0; i < 10; i++) {
      await settle();
      clock.advance(1);
      expected.push((await hub.append(i % 2 ? "relay" : "chat", { live: i })).seq);
      hub.emit(["relay"], { tick: i }, { deadline: clock.now() + 1000, tickAt: clock.now() });
    }
    for (let i = 0; i < 20 && out.length < expected.length; i++) await settle();
    const seqs = out.filter((f) => !f.ephemeral).map((f) => f.seq);
    expect(seqs).toEqual(expected);
    for (let i = 1; i < seqs.length; i++) expect(compareSeq(seqs[i - 1]!, seqs[i]!)).toBeLessThan(0);
    // No tick overtook the replay: the ones emitted while it was held back were counted, not sent.
    const lastReplayed = out.findIndex((f) => f.seq === expected[299]);
    expect(out.slice(0, lastReplayed).some((f) => f.ephemeral)).toBe(false);
    expect(dropped.length).toBeGreaterThan(0);
    // Each topic goes live on its next entry, which arrives once, in order.
    const before = out.length;
    const after = [(await hub.append("chat", { n: "after" })).seq, (await hub.append("relay", { n: "after" })).seq];
    expect(out.slice(before).map((f) => f.seq)).toEqual(after);
    expect([...live].sort()).toEqual(["chat", "relay"]);
    hub.emit(["relay"], { tick: "live" }, { deadline: clock.now() + 1000, tickAt: clock.now() });
    expect(out.at(-1)!.ephemeral).toBe(true);
  });

  it("releases the other topics when one leaves before it caught up", async () => {
    const { clock, log, hub, out, sub } = setup();
    const since = log.appendSync("chat", { n: "since" }).seq;
    for (let i = 0; i < 200; i++) {
      clock.advance(1);
      log.appendSync(i % 2 ? "relay" : "chat", { i });
    }
    const subs = new Subscriptions(hub, sub);
    subs.addAll(["chat", "relay"], { since });
    await settle();
    subs.remove("chat"); // still replaying: the relay entries must not wait for it
    for (let i = 0; i < 20 && out.length < 100; i++) await settle();
    expect(out.map((f) => f.topic)).toEqual(Array(100).fill("relay"));
  });

  it("charges a resume of many topics one replay each, at most the connection's burst", async () => {
    const { clock, log, hub, out, sub } = setup();
    const since = log.appendSync("chat", { n: "since" }).seq;
    clock.advance(1);
    const entry = log.appendSync("chat", { n: 1 });
    const limits = new ReplayLimits({ rate: 1, burst: 2, maxConcurrent: 10, now: () => clock.now() });
    const topics = ["chat", ...Array.from({ length: 11 }, (_, i) => `chat:room${i}`)];
    const budget = limits.budget();
    const subs = new Subscriptions(hub, sub, budget);
    subs.addAll(topics, { since });
    for (let i = 0; i < 5 && out.length === 0; i++) await settle();
    expect(out.map((f) => f.seq)).toEqual([entry.seq]);
    expect(subs.size).toBe(12);
    // It took the whole burst: the next resume is refused as a whole, until the allowance refills.
    const refused: string[] = [];
    subs.clear();
    const again = new Subscriptions(hub, { ...sub, replayFailed: (topic) => void refused.push(topic) }, budget);
    again.addAll(["chat", "relay"], { since });
    expect(refused).toEqual(["chat", "relay"]);
    expect(again.size).toBe(0);
    clock.advance(1000); // 1 a second, 2 needed
    again.addAll(["chat", "relay"], { since });
    expect(refused).toHaveLength(4);
    clock.advance(1000);
    again.addAll(["chat", "relay"], { since });
    expect(again.size).toBe(2);
  });

  it("waits for the tail to pass the newest entry sent, unless that entry's topic left", () => {
    // Redis: chat's history was read past this instance's lagging tail (x), relay's was not.
    const passed = new Set(["relay"]);
    const group = new ResumeGroup(["chat", "relay"], { limit: 100, droppedStale: () => {}, tailPassed: (topic) => passed.has(topic) });
    const written: string[] = [];
    const target = (topic: string) =>
      group.wrap(topic, { closed: false, send: (_f, seq) => (written.push(`${topic} ${seq}`), true), notRecovered() {}, goLive() {}, overflowed() {} });
    const [chat, relay] = [target("chat"), target("relay")];
    relay.send("r", "2-1", false);
    relay.historySent!("2-1");
    chat.send("c", "1-1", false);
    chat.send("x", "3-1", false);
    chat.historySent!("3-1");
    expect(relay.mayGoLive!()).toBe(false);
    expect(written).toEqual([]);
    group.forget("chat"); // unsubscribed: its catch-up, which the tail would have fed, is gone
    expect(written).toEqual(["relay 2-1"]);
    expect(relay.mayGoLive!()).toBe(true);
  });

  it("leaves a single topic, or a subscription without an offset, to the plain path", () => {
    const { hub, log, out, live, sub } = setup();
    log.appendSync("chat", { n: 1 });
    const subs = new Subscriptions(hub, sub);
    subs.addAll(["chat", "relay"]);
    expect([...live].sort()).toEqual(["chat", "relay"]);
    expect(out).toEqual([]);
  });
});
