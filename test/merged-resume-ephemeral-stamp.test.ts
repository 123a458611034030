/**
 * A socket on `timers` and `chat` resumes both from one offset (`/ws?topics=timers,chat&since=`),
 * and may pass any seq it received. A `TIMER_UPDATE` that follows chat entries must not carry a
 * position behind them (`<last timers seq>.<k>`): resumed from it, the socket would get those
 * chat entries again. Its seqs must still increase on `timers` when another root's log is reset.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Hub } from "../src/core/hub.ts";
import { MemoryTopicLog } from "../src/core/memory-topic-log.ts";
import { compareSeq } from "../src/core/seq.ts";
import { type Subscriber, Subscriptions } from "../src/core/subscriptions.ts";
import { VirtualClock } from "../src/core/virtual-clock.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

type Out = { topic: string; seq: string; ephemeral: boolean };

function fixture() {
  const clock = new VirtualClock();
  const gaps: ((topic: string) => void)[] = [];
  // A log that reports gaps (as the Redis one does), reported by the test.
  const log = Object.assign(new MemoryTopicLog({ historySize: 1000, clock }), {
    onGap: (listener: (topic: string) => void) => (gaps.push(listener), () => {}),
  });
  const hub = new Hub({ log, clock, durableRoots: ["chat", "timers"] });
  const live: Out[] = [];
  hub.addTransport({
    receivers: (topic) => (topic === "chat" || topic === "timers" ? 1 : 0),
    deliver: (topic, _frame, seq, ephemeral) => (live.push({ topic, seq, ephemeral }), 1),
    reset: () => 0,
  });
  const update = () => {
    clock.advance(1000);
    hub.emit(["timers"], { type: "TIMER_UPDATE", payload: { id: 5 } }, { deadline: clock.now() + 1000, tickAt: clock.now() });
    return live.at(-1)!;
  };
  return { clock, log, hub, live, update, gap: (topic: string) => gaps.forEach((g) => g(topic)) };
}

function subscriber(out: Out[], live: Set<string>): Subscriber {
  return {
    closed: false,
    write: (topic, _frame, seq, ephemeral) => (out.push({ topic, seq, ephemeral }), true),
    live: (topic) => void live.add(topic),
    unlive: (topic) => void live.delete(topic),
    notRecovered: () => {},
    overflowed: () => {},
    replayFailed: () => {},
  };
}

it("a timer update after chat entries resumes both topics without repeating them", async () => {
  const { clock, log, hub, live, update } = fixture();
  log.appendSync("timers", { type: "TIMER_CREATE", payload: { id: 5 } });
  clock.advance(10);
  const chat = [log.appendSync("chat", { n: 1 }), log.appendSync("chat", { n: 2 })];
  const tick = update();
  expect(tick.ephemeral).toBe(true);
  // Every seq the socket received increases in delivery order, across its topics.
  for (let i = 1; i < live.length; i++) expect(compareSeq(live[i]!.seq, live[i - 1]!.seq)).toBeGreaterThan(0);

  const replayed: Out[] = [];
  const resumedLive = new Set<string>();
  new Subscriptions(hub, subscriber(replayed, resumedLive)).addAll(["timers", "chat"], { since: tick.seq });
  for (let i = 0; i < 20 && !resumedLive.has("chat"); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(resumedLive.has("chat")).toBe(true);
  expect(replayed.filter((o) => !o.ephemeral)).toEqual([]);
  // The next update reaches it (a topic whose history ended first goes live on its next frame).
  const later = update();
  expect(replayed.map((o) => o.seq)).toEqual([later.seq]);
  expect(resumedLive.has("timers")).toBe(true);
  // Nothing after it is lost either: the next entries of both topics come after the offset.
  const next = [log.appendSync("timers", { type: "TIMER_PAUSE", payload: { id: 5 } }), log.appendSync("chat", { n: 3 })];
  for (const entry of [...chat, ...next]) expect(compareSeq(entry.seq, tick.seq) > 0).toBe(next.includes(entry));
});

it("keeps a topic's timer update seqs increasing when another root's log is reset", () => {
  const { clock, log, live, update, gap } = fixture();
  log.appendSync("timers", { type: "TIMER_CREATE", payload: { id: 5 } });
  clock.advance(10);
  log.appendSync("chat", { n: 1 });
  const before = update();
  gap("chat");
  const after = update();
  expect(compareSeq(after.seq, before.seq)).toBeGreaterThan(0);
  const timers = live.filter((o) => o.topic === "timers");
  for (let i = 1; i < timers.length; i++) expect(compareSeq(timers[i]!.seq, timers[i - 1]!.seq)).toBeGreaterThan(0);
});

describe.each(MODES)("/ws?topics=timers,chat resumed from a timer update ($name)", (mode) => {
  let app: Tickwire;
  let database: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  beforeAll(async () => {
    if (mode.name === "mysql+redis") database = await ownDatabase("merged-stamp");
    app = await startServer(timersEnv(mode, uniquePrefix("merged-stamp"), database?.url));
  });
  afterAll(async () => {
    await app.stop();
    await database?.drop();
  });

  it("gets the chat messages after it, not those before it again", async () => {
    const http = api(app);
    const first = wsClient(wsUrl(app, "/ws?topics=timers,chat"));
    await first.opened;
    const { body: timer } = await http.create(uniquePrefix("sess"), 600);
    const posted = [];
    for (const content of ["one", "two"]) posted.push((await http.call("POST", "/messages", { content })).body.id);
    await first.collect(2, (f) => f.topic === "chat");
    const chatAt = first.frames.findLastIndex((f: any) => f.topic === "chat");
    // The first update on this socket after both messages.
    const update = await first.next((f) => f.type === "TIMER_UPDATE" && f.payload.id === timer.id && first.frames.indexOf(f) > chatAt);
    first.close();

    const resumed = wsClient(wsUrl(app, `/ws?topics=timers,chat&since=${encodeURIComponent(update.seq)}`));
    await resumed.opened;
    await resumed.next((f) => f.type === "TIMER_UPDATE" && f.payload.id === timer.id);
    const three = (await http.call("POST", "/messages", { content: "three" })).body.id;
    await resumed.next((f) => f.topic === "chat" && f.id === three);
    expect(resumed.frames.filter((f: any) => f.topic === "chat" && f.type === "message").map((f: any) => f.id)).toEqual([three]);
    expect(resumed.frames.filter((f: any) => f.op === "recovered")).toEqual([]);
    resumed.close();
  });
});
