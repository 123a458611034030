/**
 * One offset for several topics, in both storage modes: an SSE stream on `chat,relay` resumed
 * from one `Last-Event-ID` (and `/ws?topics=chat,relay&since=`) while relay messages keep
 * coming must send its durable seqs in increasing order across both topics, so that a client cut
 * off after any of them and resuming from it loses nothing. (Each topic replaying on its own let
 * a quiet topic go live while a long one still replayed: a relay id then came before thousands
 * of older chat entries, and a resume from it skipped them all, without `recovered:false`.)
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

/**
 * Publishes `count` chat messages in windows of 50 unacknowledged ones, and a relay message
 * through `manager` after each window (a history where the topics interleave); resolves with
 * the chat seqs.
 */
async function publishHistory(publisher: WsTestClient, manager: WsTestClient, count: number): Promise<string[]> {
  const acked = (f: any) => f.op === "ack" && String(f.ref).startsWith("c-");
  for (let i = 0; i < count; i++) {
    if (i % 50 === 0 && i > 0) {
      await publisher.collect(i, acked, 20_000);
      manager.send(`history ${i}`);
      await manager.collect(i / 50, (f) => f?.op === "ack", 20_000);
    }
    publisher.send({ op: "publish", topic: "chat", data: { content: `c${i}` }, ref: `c-${i}` });
  }
  return (await publisher.collect(count, acked, 20_000)).map((a: any) => a.seq as string);
}

/** A manager sending relay messages until `stop()`, each after the previous one was acknowledged. */
function relayFlood(app: Tickwire) {
  const manager = wsClient(wsUrl(app, "/ws/manager"));
  let flooding = true;
  let sent = 0;
  const done = (async () => {
    await manager.opened;
    while (flooding) {
      manager.send(`r${sent++}`);
      await manager.collect(sent, (f) => f?.op === "ack", 20_000);
    }
  })();
  return {
    started: () => manager.collect(5, (f) => f?.op === "ack", 20_000),
    async stop() {
      flooding = false;
      await done;
      manager.close();
    },
  };
}

/** Every two consecutive durable seqs increase; returns the first pair that does not, if any. */
function firstDecrease(seqs: string[]): [string, string] | undefined {
  for (let i = 1; i < seqs.length; i++) if (compareSeq(seqs[i - 1]!, seqs[i]!) >= 0) return [seqs[i - 1]!, seqs[i]!];
  return undefined;
}

describe.each(MODES)("one offset for several topics ($name)", (mode) => {
  let app: Tickwire;
  let chat: string[];
  beforeAll(async () => {
    app = await startServer({ ...mode.env(uniquePrefix("multi-resume")), HISTORY_SIZE: "2000", WS_PUBLISHES_PER_SECOND: "100000" });
    const publisher = wsClient(wsUrl(app, "/ws?topics="));
    const manager = wsClient(wsUrl(app, "/ws/manager"));
    await Promise.all([publisher.opened, manager.opened]);
    chat = await publishHistory(publisher, manager, 400);
    publisher.close();
    manager.close();
  });
  afterAll(async () => {
    await app.stop();
  });

  it("SSE: replays chat and relay in seq order across topics while relay is live, and a resume from any id loses nothing", async () => {
    const flood = relayFlood(app);
    await flood.started();
    const sse = await sseClient(`${app.url}/events?topics=chat,relay`, { "Last-Event-ID": chat[0]! });
    await sse.collect(chat.length - 1, (e) => e.json?.topic === "chat", 20_000);
    await sse.collect(5, (e) => e.json?.topic === "relay", 20_000);
    await flood.stop();
    sse.close();
    const durable = sse.events.filter((e) => e.id !== undefined && e.event === undefined);
    const ids = durable.map((e) => e.id!);
    expect(firstDecrease(ids)).toBeUndefined();
    expect(durable.filter((e) => e.json?.topic === "chat").map((e) => e.id)).toEqual(chat.slice(1));
    // (relay's history began after the offset, in a new epoch: it may say so; chat must not)
    expect(sse.events.some((e) => e.event === "recovered" && e.json?.topic === "chat")).toBe(false);

    // Cut off right after the first relay event (from the history, among the chat entries): the
    // resume from its id brings every chat entry after it.
    const cut = durable.findIndex((e) => e.json?.topic === "relay");
    const from = durable[cut]!.id!;
    const resume = await sseClient(`${app.url}/events?topics=chat,relay`, { "Last-Event-ID": from });
    const newer = chat.filter((seq) => compareSeq(seq, from) > 0);
    if (newer.length > 0) await resume.collect(newer.length, (e) => e.json?.topic === "chat", 20_000);
    const marker = await fetch(`${app.url}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ content: "marker" }),
    });
    const markerSeq = ((await marker.json()) as { seq: string }).seq;
    await resume.next((e) => e.id === markerSeq, 20_000);
    resume.close();
    const resumed = resume.events.filter((e) => e.json?.topic === "chat").map((e) => e.id);
    expect(resumed).toEqual([...newer, markerSeq]);
    expect(resume.events.some((e) => e.event === "recovered")).toBe(false);
    console.log(JSON.stringify({ multiTopicResume: { mode: mode.name, events: durable.length, cutAt: cut, chatAfterCut: newer.length } }));
  });

  it("WS: ?topics=chat,relay&since= sends the durable frames in seq order across topics", async () => {
    const flood = relayFlood(app);
    await flood.started();
    const ws = wsClient(wsUrl(app, `/ws?topics=chat,relay&since=${chat[0]}`));
    await ws.opened;
    const isDurable = (f: any) => (f?.topic === "chat" || f?.topic === "relay") && f.op === undefined;
    await ws.collect(chat.length - 1, (f) => isDurable(f) && f.topic === "chat", 20_000);
    await ws.collect(5, (f) => isDurable(f) && f.topic === "relay", 20_000);
    await flood.stop();
    ws.close();
    const seqs = ws.frames.filter(isDurable).map((f: any) => f.seq as string);
    expect(firstDecrease(seqs)).toBeUndefined();
    // (then the SSE test's marker, when it ran first)
    const chatSeqs = ws.frames.filter((f: any) => isDurable(f) && f.topic === "chat").map((f: any) => f.seq);
    expect(chatSeqs.slice(0, chat.length - 1)).toEqual(chat.slice(1));
  });
});

/** A publisher of chat (`/ws` publish ops) and relay (`/ws/manager`) messages, one at a time; each resolves with its seq. */
async function publishers(app: Tickwire) {
  const pub = wsClient(wsUrl(app, "/ws?topics="));
  const manager = wsClient(wsUrl(app, "/ws/manager"));
  await Promise.all([pub.opened, manager.opened]);
  let chats = 0;
  let relays = 0;
  return {
    async chat(): Promise<string> {
      const ref = `q${chats++}`;
      pub.send({ op: "publish", topic: "chat", data: { content: ref }, ref });
      return (await pub.next((f) => f.op === "ack" && f.ref === ref)).seq as string;
    },
    async relay(): Promise<string> {
      manager.send(`m${relays}`);
      return (await manager.collect(++relays, (f) => f?.op === "ack")).at(-1).seq as string;
    },
    close() {
      pub.close();
      manager.close();
    },
  };
}

describe.each(MODES)("one offset for several topics, one of them quiet ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ ...mode.env(uniquePrefix("multi-quiet")), WS_PUBLISHES_PER_SECOND: "100000" });
  });
  afterAll(async () => {
    await app.stop();
  });

  // The offset is newer than anything of the quiet topic: its tail never passes it, which must
  // not hold the other topic's replay (Redis: it did, until the quiet topic got an entry).
  it("replays the other topic at once and then goes live, on SSE and WS", async () => {
    const p = await publishers(app);
    await p.relay();
    const since = await p.chat();
    const replayed = await p.chat();
    const sse = await sseClient(`${app.url}/events?topics=chat,relay`, { "Last-Event-ID": since });
    const ws = wsClient(wsUrl(app, `/ws?topics=chat,relay&since=${since}`));
    await sse.next((e) => e.id === replayed);
    await ws.next((f) => f.seq === replayed);
    const live = await p.chat();
    await sse.next((e) => e.id === live);
    await ws.next((f) => f.seq === live);
    for (const c of [sse, ws, p]) c.close();
  });
});

describe("one offset for several topics with WRITE_DELAY_MS (embedded)", () => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ WRITE_DELAY_MS: "50", WS_PUBLISHES_PER_SECOND: "100000" });
  });
  afterAll(async () => {
    await app.stop();
  });

  // Once the replay is out, one topic is live (its frames held by the write window) while the
  // other is still written directly: a direct frame must not overtake a held older one.
  for (const first of ["relay", "chat"] as const) {
    it(`keeps the seqs increasing when a ${first} entry is followed by the other topic's`, async () => {
      const p = await publishers(app);
      const since = await p.chat();
      const history = [await p.chat(), await p.relay()];
      const ws = wsClient(wsUrl(app, `/ws?topics=chat,relay&since=${since}`));
      await ws.collect(2, (f) => history.includes(f.seq));
      const next = first === "relay" ? [await p.relay(), await p.chat()] : [await p.chat(), await p.relay()];
      await ws.collect(2, (f) => next.includes(f.seq));
      const seqs = ws.frames.filter((f: any) => f.op === undefined && (f.topic === "chat" || f.topic === "relay")).map((f: any) => f.seq);
      expect(seqs).toEqual([...history, ...next]);
      ws.close();
      p.close();
    });
  }
});
