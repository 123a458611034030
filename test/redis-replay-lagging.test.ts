/**
 * Replays on an instance whose tailer lags (its `XREAD` held), two instances on one Redis:
 * - the tailer, reading again, finds a gap (more was appended than the history keeps) while a
 *   replay from the in-memory window is still sending: that replay answered `recovered` for what
 *   the window held, and the entries after the gap would follow it with the missed ones between.
 *   It must end (overflowed: the client resumes and is told) or have every entry;
 * - a resume with a `since` the lagging tail has not reached (the client saw it on the other
 *   instance) must get no frame stamped behind that `since` (an ephemeral `<tail seq>.<k>`): a
 *   resume from such a seq would repeat what the client has.
 */
import { afterAll, expect, it } from "bun:test";
import { systemClock } from "../src/core/clock.ts";
import { Hub } from "../src/core/hub.ts";
import { compareSeq } from "../src/core/seq.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { RedisTopicLog } from "../src/infra/redis/topic-log.ts";
import { silentLogger } from "../src/log.ts";
import { REDIS_URL, uniquePrefix } from "./support/server.ts";
import { gateTailOf, type TailGate } from "./support/tail-gate.ts";
import { until } from "./support/until.ts";

const clients: Redis[] = [];
const logs: RedisTopicLog[] = [];
const gates: TailGate[] = [];
const keys: string[] = [];

async function open(prefix: string, topic: string, historySize: number, gated: boolean) {
  const client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "test" });
  clients.push(client);
  const gate = gated ? gateTailOf(client) : undefined;
  if (gate) gates.push(gate);
  let xinfos = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((args: string[], route?: string) => {
    if (args[0] === "XINFO") xinfos++;
    return send(args, route);
  }) as Redis["sendCommand"];
  const log = new RedisTopicLog({ client, prefix, topics: [topic], historySize, clock: systemClock, log: silentLogger });
  logs.push(log);
  keys.push(`${prefix}:${topic}`, `${prefix}:epoch:${topic}`);
  await log.start();
  return { log, gate, xinfos: () => xinfos };
}

/** A replay target that records what it is sent and how it ends. */
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

afterAll(async () => {
  for (const g of gates) g.open();
  for (const log of logs) await log.stop();
  if (clients[0]) await clients[0].sendCommand(["DEL", ...keys]);
  for (const c of clients) c.destroy();
});

it("a replay still sending when the tailer finds a gap ends overflowed, or has every entry", async () => {
  const prefix = uniquePrefix("replay-gap");
  const a = await open(prefix, "chat", 1000, true);
  const b = await open(prefix, "chat", 1000, false);
  const hubA = new Hub({ log: a.log, clock: systemClock, durableRoots: ["chat"], onError: () => {} });
  let gaps = 0;
  a.log.onGap(() => gaps++);
  const all: string[] = [];
  for (let i = 0; i < 990; i++) all.push((await b.log.append("chat", { i })).seq);
  await until(() => hubA.lastDelivered("chat") === all.at(-1), { message: "A to deliver the first 990" });

  a.gate!.close();
  // Just after A's trim watch looked (every 500 ms): the burst and the resume come before its next look.
  const watched = a.xinfos();
  await until(() => a.xinfos() > watched, { message: "A's trim watch to run" });
  for (let c = 990; c < 3500; c += 400) {
    const chunk = await Promise.all(Array.from({ length: Math.min(400, 3500 - c) }, (_, j) => b.log.append("chat", { i: c + j })));
    all.push(...chunk.map((e) => e.seq).sort(compareSeq));
  }
  const { got, events, target } = recorder();
  let live = false;
  hubA.addTransport({
    receivers: (topic) => (live && topic === "chat" ? 1 : 0),
    deliver: (_topic, frame) => (got.push(JSON.parse(frame).seq), 1),
    reset: (affected) => (live && affected("chat") ? ((live = false), events.push("reset 4008"), 1) : 0),
  });
  target.goLive = () => ((live = true), events.push("live"));
  a.gate!.open(); // the tailer reads again while the resume (from the window) is being sent
  await hubA.replay("chat", all[0]!, target);
  await until(() => hubA.lastDelivered("chat") === all.at(-1), { message: "A to catch up" });
  await until(() => events.length > 0, { message: "the replay to end" });
  expect(gaps).toBeGreaterThan(0);
  const told = events.some((e) => e === "overflowed" || e === "recovered:false" || e === "reset 4008");
  if (!told) expect(all.slice(1).filter((s) => !got.includes(s))).toEqual([]);
});

it("a resume from a since the lagging tail has not reached gets nothing stamped behind it", async () => {
  const prefix = uniquePrefix("replay-behind");
  const a = await open(prefix, "timers", 100, true);
  const b = await open(prefix, "timers", 100, false);
  const hubA = new Hub({ log: a.log, clock: systemClock, durableRoots: ["timers"] });
  const e1 = await b.log.append("timers", { type: "TIMER_CREATE" });
  await until(() => hubA.lastDelivered("timers") === e1.seq, { message: "A to deliver e1" });
  a.gate!.close();
  await b.log.append("timers", { type: "TIMER_PAUSE" });
  const e3 = await b.log.append("timers", { type: "TIMER_RESUME" });
  // The client had e1..e3 from instance B; it resumes on A, whose tail is at e1.
  const { got, events, target } = recorder();
  await hubA.replay("timers", e3.seq, target);
  const now = Date.now();
  hubA.emit(["timers"], { type: "TIMER_UPDATE", payload: {} }, { deadline: now + 1000, tickAt: now });
  a.gate!.open();
  await until(() => hubA.lastDelivered("timers") === e3.seq, { message: "A to catch up" });
  await until(() => events.includes("live"), { message: "the resume to go live" });
  for (const seq of got) expect(compareSeq(seq, e3.seq)).toBeGreaterThan(0);
});

it("a resume of a timer topic from a newer chat seq (a merged offset) goes live and gets its updates", async () => {
  const prefix = uniquePrefix("replay-cross");
  const client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "test" });
  clients.push(client);
  const log = new RedisTopicLog({ client, prefix, topics: ["chat", "timers"], historySize: 100, clock: systemClock, log: silentLogger });
  logs.push(log);
  keys.push(`${prefix}:chat`, `${prefix}:timers`, `${prefix}:epoch:chat`, `${prefix}:epoch:timers`);
  await log.start();
  const hub = new Hub({ log, clock: systemClock, durableRoots: ["chat", "timers"] });
  hub.derive({ parent: "timers", topicsOf: (e) => [`timer:${(e.body.payload as { id: number }).id}`], matches: (t) => t.startsWith("timer:") });
  const t = await hub.append("timers", { type: "TIMER_CREATE", payload: { id: 5 } });
  const since = (await hub.append("chat", { n: 1 })).seq;
  await until(() => hub.lastDelivered("chat") === since && hub.lastDelivered("timers") === t.seq, { message: "both delivered" });
  const { got, events, target } = recorder();
  let live = false;
  hub.addTransport({ receivers: (topic) => (live && topic === "timer:5" ? 1 : 0), deliver: (_t, f) => (got.push(JSON.parse(f).seq), 1), reset: () => 0 });
  target.goLive = () => ((live = true), events.push("live"));
  await hub.replay("timer:5", since, target);
  for (let i = 0; i < 10; i++) {
    const now = Date.now();
    hub.emit(["timers", "timer:5"], { type: "TIMER_UPDATE", payload: { id: 5 } }, { deadline: now + 1000, tickAt: now });
  }
  expect(events).toContain("live");
  expect(got.length).toBeGreaterThanOrEqual(9);
  for (let i = 1; i < got.length; i++) expect(compareSeq(got[i]!, got[i - 1]!)).toBeGreaterThan(0);
});
