/**
 * A merged resume (`/ws?topics=timer:5,chat&since=<newest chat seq>`) in which the timer topic's
 * history is done first: its next frames are `TIMER_UPDATE`s, which were stamped
 * `<last timers seq>.<k>`, behind the client's offset (they still are on an instance whose tail
 * lags, see redis-replay-lagging; here they follow the chat entry, `ephemeral-stamps.ts`). The
 * topic must still go live and get them (they were dropped, and the topic never went live until
 * the next timers entry), its seqs increasing.
 */
import { expect, it } from "bun:test";
import { Hub } from "../src/core/hub.ts";
import { MemoryTopicLog } from "../src/core/memory-topic-log.ts";
import { compareSeq } from "../src/core/seq.ts";
import { type Subscriber, Subscriptions } from "../src/core/subscriptions.ts";
import { VirtualClock } from "../src/core/virtual-clock.ts";

it("a merged resume gets the timer topic's updates after its offset, and goes live", async () => {
  const clock = new VirtualClock();
  const log = new MemoryTopicLog({ historySize: 1000, clock });
  const hub = new Hub({ log, clock, durableRoots: ["chat", "timers"] });
  hub.derive({
    parent: "timers",
    topicsOf: (e) => [`timer:${(e.body.payload as { id: number }).id}`],
    matches: (t) => t.startsWith("timer:"),
  });
  const out: { topic: string; seq: string; ephemeral: boolean; direct?: true }[] = [];
  const live = new Set<string>();
  hub.addTransport({
    receivers: (topic) => (live.has(topic) ? 1 : 0),
    deliver: (topic, _frame, seq, ephemeral) => (out.push({ topic, seq, ephemeral }), 1),
    reset: () => 0,
  });
  const sub: Subscriber = {
    closed: false,
    write: (topic, frame, seq, ephemeral) => (out.push({ topic, seq, ephemeral, direct: true }), expect(JSON.parse(frame).seq).toBe(seq), true),
    live: (topic) => void live.add(topic),
    unlive: (topic) => void live.delete(topic),
    notRecovered: () => {},
    overflowed: () => {},
    replayFailed: () => {},
  };
  log.appendSync("timers", { type: "TIMER_CREATE", payload: { id: 5 } });
  clock.advance(10);
  const since = log.appendSync("chat", { n: 1 }).seq;
  new Subscriptions(hub, sub).addAll(["timer:5", "chat"], { since });
  for (let i = 0; i < 20 && !live.has("chat"); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(live.has("chat")).toBe(true);
  for (let i = 0; i < 30; i++) {
    clock.advance(1000);
    hub.emit(["timers", "timer:5"], { type: "TIMER_UPDATE", payload: { id: 5 } }, { deadline: clock.now() + 1000, tickAt: clock.now() });
  }
  const updates = out.filter((o) => o.topic === "timer:5" && o.ephemeral);
  // At most the first is dropped (stamped behind the offset, on the catch-up's path); the topic
  // goes live on it, and its seqs only increase.
  expect(updates.length).toBeGreaterThanOrEqual(29);
  for (let i = 1; i < updates.length; i++) expect(compareSeq(updates[i]!.seq, updates[i - 1]!.seq)).toBeGreaterThan(0);
  for (const { seq } of updates.filter((u) => u.direct)) expect(compareSeq(seq, since)).toBeGreaterThan(0);
  expect(live.has("timer:5")).toBe(true);
});
