/**
 * `WRITE_DELAY_MS` keeps every WebSocket guarantee, in both storage modes: a burst reaches each
 * subscriber as separate frames, in order; a subscriber resuming with `since` while hundreds of
 * messages are published loses none, repeats none and keeps the order across the switch from
 * replay to live; a stalled subscriber that cannot take a durable frame is closed with 4008
 * while the others get every frame.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { stalledWebSocket } from "./support/raw-ws.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const isChat = (f: any) => f?.topic === "chat" && f.op === undefined;
const chatSeqs = (client: WsTestClient) => client.frames.filter(isChat).map((f: any) => f.seq as string);
const acked = (tag: string) => (f: any) => f.op === "ack" && String(f.ref).startsWith(`${tag}-`);

/** Publishes `count` chat messages over one socket, at most 50 unacknowledged at a time. */
async function publishMany(publisher: WsTestClient, count: number, tag: string, content = (i: number) => `${tag}-${i}`): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (i % 50 === 0 && i > 0) await publisher.collect(i, acked(tag), 20_000);
    publisher.send({ op: "publish", topic: "chat", data: { content: content(i) }, ref: `${tag}-${i}` });
  }
}

describe.each(MODES)("WRITE_DELAY_MS=5 ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ ...mode.env(uniquePrefix("write-delay")), WRITE_DELAY_MS: "5", WS_PUBLISHES_PER_SECOND: "100000", WS_OPS_PER_SECOND: "100000" });
  });
  afterAll(() => app.stop());

  it("delivers a burst to every subscriber as separate frames, in order", async () => {
    const subscribers = [wsClient(wsUrl(app, "/ws?topics=chat")), wsClient(wsUrl(app, "/ws?topics=chat"))];
    await Promise.all(subscribers.map((s) => s.opened));
    const publisher = wsClient(wsUrl(app, "/ws?topics="));
    await publisher.opened;
    await publishMany(publisher, 200, "burst");
    for (const s of subscribers) {
      const frames = await s.collect(200, isChat, 20_000);
      expect(frames.map((f: any) => f.content)).toEqual(Array.from({ length: 200 }, (_, i) => `burst-${i}`));
      s.close();
    }
    publisher.close();
  });

  it("replays since while hundreds of messages are published: none lost, none twice, in order", async () => {
    const publisher = wsClient(wsUrl(app, "/ws?topics="));
    await publisher.opened;
    const total = 600;
    const acks = (): any[] => publisher.frames.filter(acked("race"));
    void publishMany(publisher, total, "race");
    const subscribers: { client: WsTestClient; since: string }[] = [];
    for (const at of [1, 100, 250, 400]) {
      await publisher.collect(at, acked("race"));
      const since = acks()[at - 1].seq as string;
      const client = wsClient(wsUrl(app, "/ws?topics="));
      await client.opened;
      client.send({ op: "subscribe", topic: "chat", since });
      subscribers.push({ client, since });
    }
    await publisher.collect(total, acked("race"), 20_000);
    const all = acks().map((f: any) => f.seq as string);
    expect(all).toEqual([...all].sort(compareSeq));
    for (const { client, since } of subscribers) {
      await client.next((f) => isChat(f) && f.seq === all.at(-1), 20_000);
      expect(chatSeqs(client)).toEqual(all.slice(all.indexOf(since) + 1));
      client.close();
    }
    publisher.close();
  });
});

describe("WRITE_DELAY_MS=5 backpressure", () => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ WRITE_DELAY_MS: "5", WS_BACKPRESSURE_LIMIT: "65536", WS_PUBLISHES_PER_SECOND: "100000", WS_OPS_PER_SECOND: "100000" });
  });
  afterAll(() => app.stop());

  it("closes a stalled subscriber that cannot take a durable frame (4008) while another gets every frame in order", async () => {
    const health = async (): Promise<any> => (await fetch(`${app.url}/health`)).json();
    const stalled = await stalledWebSocket(app.port, "/ws?topics=chat");
    const normal = wsClient(wsUrl(app, "/ws?topics=chat"));
    await normal.opened;
    await until(async () => (await health()).connections.ws === 2, { message: "both sockets", timeoutMs: 15_000 });
    const publisher = wsClient(wsUrl(app, "/ws?topics="));
    await publisher.opened;
    const total = 1500; // ~6 MB: more than loopback buffers plus the 64 KiB limit
    const pad = "x".repeat(4000);
    await publishMany(publisher, total, "stall", (i) => `${i}:${pad}`);
    const frames = await normal.collect(total, isChat, 20_000);
    expect(frames.map((f: any) => Number(f.content.split(":")[0]))).toEqual([...Array(total).keys()]);
    await until(async () => (await health()).connections.ws === 2, {
      message: "the stalled socket to be closed (publisher and normal left)",
      timeoutMs: 15_000,
    });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/tickwire_events_dropped_total\{topic="chat",reason="overflow"\} [1-9]/);
    stalled.destroy();
    normal.close();
    publisher.close();
  }, 30_000);
});
