import { describe, expect, it } from "bun:test";
import type { ReplayTarget } from "../../core/catch-up.ts";
import type { HubMetrics } from "../../core/hub-metrics.ts";
import { silentLogger } from "../../log.ts";
import type { Socket, SocketData } from "./socket.ts";
import { WsTransport } from "./ws-transport.ts";

/** A socket with no Bun behind it: what the transport reads and what it did to it. */
function fakeSocket(topics: string[], buffered = 0) {
  const subscribed = new Set(topics);
  const sent: string[] = [];
  const closes: [number, string][] = [];
  const data = {
    kind: "test",
    id: 1,
    params: {},
    query: new URLSearchParams(),
    since: undefined,
    closed: false,
    malformedWindow: 0,
    malformedCount: 0,
  } as SocketData;
  const ws = {
    data,
    isSubscribed: (t: string) => subscribed.has(t),
    subscribe: (t: string) => void subscribed.add(t),
    unsubscribe: (t: string) => void subscribed.delete(t),
    getBufferedAmount: () => buffered,
    send: (frame: string) => (sent.push(frame), frame.length),
    close: (code: number, reason: string) => void closes.push([code, reason]),
  };
  return { ws: ws as unknown as Socket, subscribed, sent, closes };
}

function setup(publishStatus: number, writeDelayMs = 0) {
  const drops: [string, string, number][] = [];
  const metrics: HubMetrics = { published() {}, delivered() {}, fanoutLatency() {}, dropped: (f, r, n) => void drops.push([f, r, n]) };
  const replays: string[] = [];
  const replayer = {
    replay: async (topic: string, _since: string | undefined, target: ReplayTarget) => {
      replays.push(topic);
      target.send(`{"topic":"${topic}","seq":"1-1"}`, "1-1", false);
      target.goLive();
    },
    cancelReplay() {},
  };
  const transport = new WsTransport({ replayer, backpressureLimit: 100, metrics, log: silentLogger, writeDelayMs });
  const published: string[] = [];
  const frames: string[] = [];
  let onPublish = () => {};
  transport.bind({ publish: (topic, frame) => (published.push(topic), frames.push(frame), onPublish(), publishStatus), subscriberCount: () => 3 });
  /** Resolves once `n` frames have been published. */
  const publishedCount = (n: number) => new Promise<void>((resolve) => (onPublish = () => frames.length >= n && resolve()));
  return { transport, drops, published, frames, publishedCount, replays };
}

describe("WsTransport", () => {
  it("publishes once per topic and event, and counts every subscriber as reached", () => {
    const { transport, published } = setup(50);
    expect(transport.receivers("chat")).toBe(3);
    expect(transport.deliver("chat", "{}", "1-1", false, 3)).toBe(3);
    expect(published).toEqual(["chat"]);
  });

  it("closes with 4008 only the sockets too backed up for a dropped durable frame, and counts them", () => {
    const { transport, drops } = setup(0);
    const stuck = fakeSocket(["chat"], 99);
    const fine = fakeSocket(["chat"], 0);
    const elsewhere = fakeSocket(["cron"], 99);
    for (const s of [stuck, fine, elsewhere]) transport.opened(s.ws);
    expect(transport.deliver("chat", "0123456789", "1-1", false, 3)).toBe(2);
    expect(stuck.closes).toEqual([[4008, "backed up past the limit; reconnect with since"]]);
    expect(fine.closes).toEqual([]);
    expect(elsewhere.closes).toEqual([]);
    expect(drops).toEqual([["chat", "overflow", 1]]);
  });

  it("counts a dropped ephemeral frame once as backpressure, closing nobody", () => {
    const { transport, drops } = setup(0);
    const stuck = fakeSocket(["timer:1"], 1000);
    transport.opened(stuck.ws);
    expect(transport.deliver("timer:1", "{}", "1-0", true, 3)).toBe(3);
    expect(stuck.closes).toEqual([]);
    expect(drops).toEqual([["timer", "backpressure", 1]]);
  });

  it("resets the sockets subscribed to an affected topic, once each", () => {
    const { transport } = setup(1);
    const a = fakeSocket([]);
    const b = fakeSocket([]);
    transport.opened(a.ws);
    transport.opened(b.ws);
    a.ws.data.subscriptions!.add("timers");
    a.ws.data.subscriptions!.add("timer:7");
    b.ws.data.subscriptions!.add("chat");
    expect(transport.reset((t) => t.startsWith("timer"))).toBe(1);
    expect(a.closes).toEqual([[4008, "missed events; reconnect with since"]]);
    expect(b.closes).toEqual([]);
  });

  it("replays through the socket's subscriptions, then subscribes it natively", async () => {
    const { transport, replays } = setup(1);
    const s = fakeSocket([]);
    transport.opened(s.ws);
    s.ws.data.subscriptions!.add("chat", { since: "1-0" });
    await Promise.resolve();
    expect(replays).toEqual(["chat"]);
    expect(s.sent).toEqual(['{"topic":"chat","seq":"1-1"}']);
    expect(s.subscribed.has("chat")).toBe(true);
    transport.closed(s.ws);
    expect(transport.count).toBe(0);
  });

  it("refuses a replayed frame once the socket buffers past the limit", async () => {
    const { transport } = setup(1);
    const s = fakeSocket([], 101);
    transport.opened(s.ws);
    s.ws.data.subscriptions!.add("chat", { since: "1-0" });
    await Promise.resolve();
    expect(s.sent).toEqual([]);
  });

  it("with a write delay, holds live frames and publishes each on its own, in order, when the window closes", async () => {
    const { transport, frames, publishedCount } = setup(50, 5);
    const done = publishedCount(3);
    for (const n of [1, 2, 3]) expect(transport.deliver("chat", `{"n":${n}}`, `${n}-0`, false, 3)).toBe(3);
    expect(frames).toEqual([]);
    await done;
    expect(frames).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it("with a write delay, publishes the held frames before a socket goes live, so it does not get them twice", () => {
    const { transport, frames } = setup(50, 1000);
    const s = fakeSocket([]);
    transport.opened(s.ws);
    transport.deliver("chat", '{"n":1}', "1-0", false, 3);
    s.ws.data.subscriptions!.add("chat");
    expect({ frames, live: s.subscribed.has("chat") }).toEqual({ frames: ['{"n":1}'], live: true });
  });

  it("with a write delay, still closes with 4008 the sockets too backed up for a held durable frame", async () => {
    const { transport, drops, publishedCount } = setup(0, 5);
    const stuck = fakeSocket(["chat"], 99);
    transport.opened(stuck.ws);
    const done = publishedCount(1);
    transport.deliver("chat", "0123456789", "1-1", false, 1);
    await done;
    expect({ closes: stuck.closes, drops }).toEqual({ closes: [[4008, "backed up past the limit; reconnect with since"]], drops: [["chat", "overflow", 1]] });
  });
});
