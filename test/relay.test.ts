/**
 * Relay contract (SPEC §4, seed redis-stream-relay), in both storage modes: manager text frames
 * are appended to the `relay` log and acknowledged in order; broadcasters get the text verbatim
 * in log order; `since` resumes without loss; bad frames are refused without closing the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const isAck = (f: any) => f?.op === "ack";
const isError = (f: any) => f?.op === "error";

async function open(url: string): Promise<WsTestClient> {
  const client = wsClient(url);
  await client.opened;
  return client;
}

describe.each(MODES)("relay ($name)", (mode) => {
  let app: Tickwire;
  const clients: WsTestClient[] = [];
  const connect = async (path: string) => {
    const c = await open(wsUrl(app, path));
    clients.push(c);
    return c;
  };
  /** Sends `texts` from `manager` and resolves with their acks' seqs, in order. */
  const sendAll = async (manager: WsTestClient, texts: string[]): Promise<string[]> => {
    const before = manager.frames.filter(isAck).length;
    for (const t of texts) manager.send(t);
    const acks = await manager.collect(before + texts.length, isAck, 20_000);
    return acks.slice(before).map((a) => a.seq);
  };

  beforeAll(async () => {
    // Managers here send 1000 frames at once, past the default publish rate of one socket.
    app = await startServer({ ...mode.env(uniquePrefix("relay")), WS_PUBLISHES_PER_SECOND: "100000" });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await app.stop();
  });

  it("relays a manager's text verbatim to every broadcaster, on /ws/broadcast and /ws/broadcaster", async () => {
    const a = await connect("/ws/broadcast");
    const b = await connect("/ws/broadcaster");
    const manager = await connect("/ws/manager");
    const texts = ["hello", '{"json":"stays as sent"}', "  spaces and ünïcødé ✓  ", ""];
    const seqs = await sendAll(manager, texts);
    expect(seqs).toHaveLength(texts.length);
    for (const c of [a, b]) {
      await c.collect(texts.length, () => true);
      expect(c.raw.slice(0, texts.length)).toEqual(texts);
    }
    expect(manager.frames.slice(0, texts.length)).toEqual(seqs.map((seq) => ({ op: "ack", seq })));
  });

  it("acks in frame order with increasing seqs, and every broadcaster sees 3 managers' 3000 messages in one log order", async () => {
    const per = 1000;
    const a = await connect("/ws/broadcast");
    const b = await connect("/ws/broadcaster");
    const unified = await connect("/ws?topics=relay");
    const managers = await Promise.all([0, 1, 2].map(() => connect("/ws/manager")));
    const sent = managers.map((_, m) => Array.from({ length: per }, (_, i) => `order-${m}-${i}`));
    // The three managers race, each pipelining up to WINDOW frames (under the ingest limit).
    const acks = await Promise.all(managers.map((mgr, m) => sendWindowed(mgr, sent[m]!)));
    const seqOf = new Map<string, string>();
    acks.forEach((seqs, m) => {
      // Acks come back in the manager's frame order, and the log keeps that order.
      expect([...seqs].sort(compareSeqs)).toEqual(seqs);
      seqs.forEach((seq, i) => seqOf.set(sent[m]![i]!, seq));
    });
    const total = per * 3;
    const isOrder = (f: any) => typeof f === "string" && f.startsWith("order-");
    const [gotA, gotB] = await Promise.all([a.collect(total, isOrder, 20_000), b.collect(total, isOrder, 20_000)]);
    expect(gotB).toEqual(gotA);
    // The broadcast order is the log order: sorted by the seqs the managers were acked with.
    const byLog = [...seqOf.keys()].sort((x, y) => compareSeqs(seqOf.get(x)!, seqOf.get(y)!));
    expect(gotA).toEqual(byLog);
    // The unified topic carries the same entries, wrapped, with the same seqs.
    const wrapped = await unified.collect(total, (f) => f?.topic === "relay" && String(f.message).startsWith("order-"), 20_000);
    expect(wrapped.map((f) => f.message)).toEqual(byLog);
    expect(wrapped.map((f) => f.seq)).toEqual(byLog.map((t) => seqOf.get(t)));
  });

  it("resumes a broadcaster with ?since=<seq>: history after it, then live, no gap and no duplicate", async () => {
    const manager = await connect("/ws/manager");
    const first = Array.from({ length: 100 }, (_, i) => `resume-${i}`);
    const seqs = await sendAll(manager, first);
    const isResume = (f: any) => typeof f === "string" && f.startsWith("resume-");
    // Keep the manager sending while the broadcaster replays, so the switch to live is raced.
    const more = Array.from({ length: 200 }, (_, i) => `resume-${100 + i}`);
    for (const t of more.slice(0, 100)) manager.send(t);
    const late = await connect(`/ws/broadcast?since=${seqs[49]}`);
    for (const t of more.slice(100)) manager.send(t);
    const got = await late.collect(250, isResume, 20_000);
    expect(got).toEqual([...first.slice(50), ...more]);
    await manager.collect(300, isAck);
    manager.send("resume-after");
    await late.next((f) => f === "resume-after");
    expect(late.raw.filter((t) => t.startsWith("resume-")).length).toBe(251);
  });

  it("refuses frames over 64 KiB and binary frames with an error frame and keeps the manager open", async () => {
    const manager = await connect("/ws/manager");
    const bc = await connect("/ws/broadcast");
    const exact = "x".repeat(64 * 1024);
    manager.send("a".repeat(64 * 1024 + 1));
    manager.send("é".repeat(32 * 1024 + 1)); // 65538 bytes in UTF-8, 32769 characters
    manager.ws.send(new Uint8Array([1, 2, 3]));
    manager.send(exact);
    manager.send("still-open");
    const replies = await manager.collect(5, (f) => isAck(f) || isError(f));
    expect(replies.map((r) => (r.op === "ack" ? "ack" : r.code))).toEqual(["too_large", "too_large", "binary_not_accepted", "ack", "ack"]);
    expect(replies[0].message).toContain("65537 bytes");
    expect(manager.ws.readyState).toBe(WebSocket.OPEN);
    const got = await bc.collect(2, () => true);
    expect(got[0].length).toBe(exact.length);
    expect(got[1]).toBe("still-open");
  });

  it("closes a manager that keeps sending junk (more than 10 bad frames a second) with 1008", async () => {
    const manager = await connect("/ws/manager");
    for (let i = 0; i < 12; i++) manager.ws.send(new Uint8Array([i]));
    const { code } = await manager.closed;
    expect(code).toBe(1008);
    expect(manager.frames.filter(isError)).toHaveLength(10);
  });

  it("carries the wrapped frame on the unified relay topic over WebSocket and SSE", async () => {
    const unified = await connect("/ws?topics=relay");
    const sse = await sseClient(`${app.url}/events?topics=relay`);
    const manager = await connect("/ws/manager");
    const [seq] = await sendAll(manager, ["wrapped please"]);
    const frame = await unified.next((f) => f?.topic === "relay" && f.message === "wrapped please");
    expect(Object.keys(frame).sort()).toEqual(["epoch", "message", "seq", "topic", "ts"]);
    expect(frame.seq).toBe(seq);
    expect(typeof frame.ts).toBe("number");
    const event = await sse.next((e) => e.json?.message === "wrapped please");
    sse.close();
    expect(event.id).toBe(seq);
    expect(event.json).toEqual(frame);
  });

  it("appends on {op:publish, topic:relay, data:text} from /ws and refuses data that is not text ≤ 64 KiB", async () => {
    const bc = await connect("/ws/broadcast");
    const pub = await connect("/ws");
    pub.send({ op: "publish", topic: "relay", data: "from unified", ref: 1 });
    const ack = await pub.next((f) => f?.ref === 1);
    expect(ack).toMatchObject({ op: "ack", topic: "relay", ref: 1 });
    expect(await bc.next((f) => f === "from unified")).toBe("from unified");
    pub.send({ op: "publish", topic: "relay", data: { not: "text" }, ref: 2 });
    expect(await pub.next((f) => f?.ref === 2)).toMatchObject({ op: "error", code: "bad_request" });
    pub.send({ op: "publish", topic: "relay", data: "z".repeat(64 * 1024 + 1), ref: 3 });
    expect(await pub.next((f) => f?.ref === 3)).toMatchObject({ op: "error", code: "too_large" });
  });

  it("answers 400 to a broadcaster upgrade with a since that is not a seq", async () => {
    const res = await fetch(`${app.url}/ws/broadcast?since=yesterday`, { headers: { Upgrade: "websocket", Connection: "Upgrade" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ code: "bad_request", field: "since" });
  });
});

const WINDOW = 100;

/** Sends `texts` keeping at most {@link WINDOW} unanswered; resolves with the acks' seqs. */
async function sendWindowed(manager: WsTestClient, texts: string[]): Promise<string[]> {
  const isReply = (f: any) => isAck(f) || isError(f);
  const base = manager.frames.filter(isReply).length;
  for (let i = 0; i < texts.length; i += WINDOW) {
    for (const t of texts.slice(i, i + WINDOW)) manager.send(t);
    await manager.collect(base + Math.min(i + WINDOW, texts.length), isReply, 20_000);
  }
  const replies = manager.frames.filter(isReply).slice(base);
  expect(replies.filter(isError)).toEqual([]);
  return replies.map((r: any) => r.seq);
}

function compareSeqs(a: string, b: string): number {
  const [am, an] = a.split("-").map(Number) as [number, number];
  const [bm, bn] = b.split("-").map(Number) as [number, number];
  return am - bm || an - bn;
}
