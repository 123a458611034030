/**
 * The relay under hostile use, in both storage modes: a manager pipelining mixed frames without
 * waiting (one reply per frame, in frame order), closing with frames in flight (every ack is in
 * the log, the log holds a prefix of what was sent), byte-exact 64 KiB limits in multi-byte
 * UTF-8, empty messages on replay, a broadcaster resuming again and again while messages are
 * published (nothing lost, nothing twice), and a broadcaster that stops reading (closed 4008
 * after a prefix of the messages, never a silent gap).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Socket } from "node:net";
import type { Tickwire } from "../src/main.ts";
import { closeCode, pausedWebSocket, serverFrames } from "./support/raw-ws.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const isAck = (f: any) => f?.op === "ack";
const isReply = (f: any) => f?.op === "ack" || f?.op === "error";
const KiB64 = 64 * 1024;

describe.each(MODES)("relay adversarial ($name)", (mode) => {
  let app: Tickwire;
  const clients: WsTestClient[] = [];
  const connect = async (path: string) => {
    const c = wsClient(wsUrl(app, path));
    clients.push(c);
    await c.opened;
    return c;
  };
  const openSockets = async (): Promise<number> => ((await (await fetch(`${app.url}/health`)).json()) as any).connections.ws;

  beforeAll(async () => {
    // 256 KiB of send buffer: a 64 KiB message fits, a stalled broadcaster fills it quickly.
    app = await startServer({ ...mode.env(uniquePrefix("relay-adv")), WS_PUBLISHES_PER_SECOND: "100000", WS_BACKPRESSURE_LIMIT: "262144" });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await app.stop();
  });

  it("answers a pipeline of mixed frames one reply per frame, in frame order, and relays exactly the accepted ones", async () => {
    const bc = await connect("/ws/broadcast");
    const manager = await connect("/ws/manager");
    type Frame = { send: string | Uint8Array; reply: "ack" | "too_large" | "binary_not_accepted" };
    const frames: Frame[] = [];
    const accepted = [
      "😀".repeat(KiB64 / 4), // 65536 bytes, 32768 UTF-16 units
      `${"€".repeat((KiB64 - 1) / 3)}a`, // 65535 + 1 bytes
      "é".repeat(KiB64 / 2),
      "",
    ];
    const refused = [`${"😀".repeat(KiB64 / 4)}a`, "€".repeat((KiB64 - 1) / 3 + 1), `${"é".repeat(KiB64 / 2)}é`];
    for (let i = 0; i < 200; i++) {
      frames.push({ send: `mix-${i}`, reply: "ack" });
      // Bad frames between good ones, while their appends are in flight (at most 10 a second).
      if (i % 40 === 3) frames.push({ send: new Uint8Array([i]), reply: "binary_not_accepted" });
      if (i % 50 === 7) frames.push({ send: accepted[(i - 7) / 50]!, reply: "ack" });
      if (i % 50 === 9 && refused[(i - 9) / 50]) frames.push({ send: refused[(i - 9) / 50]!, reply: "too_large" });
    }
    for (const f of frames) manager.ws.send(f.send);
    const replies = await manager.collect(frames.length, isReply, 20_000);
    expect(replies.map((r) => (r.op === "ack" ? "ack" : r.code))).toEqual(frames.map((f) => f.reply));
    const seqs = replies.filter(isAck).map((r) => r.seq as string);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort(compareSeqs)).toEqual(seqs);
    // No reply beyond one per frame, even once everything settled.
    manager.send("mix-end");
    await manager.next((f) => isAck(f) && !seqs.includes(f.seq));
    expect(manager.frames.filter(isReply)).toHaveLength(frames.length + 1);
    const texts = frames.filter((f) => f.reply === "ack").map((f) => f.send as string);
    const got = await bc.collect(texts.length + 1, () => true, 20_000);
    expect(got.slice(0, texts.length)).toEqual(texts);
    expect(got[texts.length]).toBe("mix-end");
  });

  it("replays empty messages to a broadcaster resuming from before them, and goes on after them", async () => {
    const manager = await connect("/ws/manager");
    const texts = ["e-0", "", "e-2", "", ""];
    for (const t of texts) manager.send(t);
    const acks = await manager.collect(texts.length, isAck);
    const late = await connect(`/ws/broadcast?since=${acks[0].seq}`);
    const stopped = late.closed.then(({ code, reason }) => {
      throw new Error(`closed ${code} (${reason}) after ${JSON.stringify(late.raw)}`);
    });
    manager.send("");
    manager.send("e-6");
    const got = await Promise.race([late.collect(6, () => true), stopped]);
    expect(got).toEqual([...texts.slice(1), "", "e-6"]);
    expect(late.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("keeps every acked message when a manager closes with frames in flight; the log holds a prefix of what it sent", async () => {
    const bc = await connect("/ws/broadcast");
    const manager = await connect("/ws/manager");
    const sent = Array.from({ length: 500 }, (_, i) => `gone-${i}`);
    for (const t of sent) manager.send(t);
    manager.close();
    await manager.closed;
    // A frame appended after everything the closed manager's frames could have become.
    const after = await connect("/ws/manager");
    after.send("gone-sentinel");
    await after.next(isAck);
    await bc.next((f) => f === "gone-sentinel", 20_000);
    const stored = bc.raw.filter((t) => t.startsWith("gone-") && t !== "gone-sentinel");
    expect(stored).toEqual(sent.slice(0, stored.length));
    const acks = manager.frames.filter(isReply);
    expect(acks.every(isAck)).toBe(true);
    // Acked ones are stored; the rest have an unknown outcome (stored or not), never a wrong ack.
    expect(acks.length).toBeLessThanOrEqual(stored.length);
  });

  it("resumes a broadcaster many times from the last message it got, while a manager publishes: none lost, none twice, in order", async () => {
    const manager = await connect("/ws/manager");
    const total = 400;
    const sent = Array.from({ length: total }, (_, i) => `chain-${i}`);
    const seqOf = new Map<string, string>();
    manager.send("start-of-chain");
    let since: string = (await manager.next(isAck)).seq;
    const publishing = (async () => {
      for (let i = 0; i < total; i += 20) {
        const window = sent.slice(i, i + 20);
        const base = manager.frames.filter(isReply).length;
        for (const t of window) manager.send(t);
        const replies = (await manager.collect(base + window.length, isReply, 20_000)).slice(base);
        replies.forEach((r, k) => seqOf.set(window[k]!, r.seq));
      }
    })();
    const isChain = (f: unknown) => typeof f === "string" && f.startsWith("chain-");
    const received: string[] = [];
    for (let session = 0; received.length < total; session++) {
      const bc = await connect(`/ws/broadcast?since=${since}`);
      if (session < 8 && received.length < total - 60) {
        await bc.collect(25, isChain, 20_000);
        bc.close();
        await bc.closed;
      } else {
        await bc.collect(total - received.length, isChain, 20_000);
      }
      const got = bc.raw.filter(isChain);
      received.push(...got);
      const last = got.at(-1);
      if (last) since = await until(() => seqOf.get(last), { message: `the ack of ${last}` });
    }
    await publishing;
    expect(received).toEqual(sent);
  });

  it("closes a broadcaster that stops reading with 4008 after a prefix of the messages, never a gap", async () => {
    const before = await openSockets();
    const { sock, rest } = await pausedWebSocket(app.port, "/ws/broadcast");
    await until(async () => (await openSockets()) === before + 1, { message: "the stalled broadcaster to be open" });
    const manager = await connect("/ws/manager");
    const body = "s".repeat(4000);
    let sent = 0;
    // ~8 MB at most: more than the loopback buffers and the 256 KiB limit.
    while (sent < 2000 && (await openSockets()) === before + 2) {
      const base = manager.frames.filter(isReply).length;
      for (let k = 0; k < 50; k++) manager.send(`${sent++}:${body}`);
      const replies = await manager.collect(base + 50, isReply, 20_000);
      expect(replies.slice(base).every(isAck)).toBe(true);
    }
    await until(async () => (await openSockets()) === before + 1, { message: "the stalled broadcaster to be closed", timeoutMs: 15_000 });
    const { texts, code } = await readToClose(sock, rest);
    expect(code).toBe(4008);
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.length).toBeLessThan(sent);
    expect(texts.map((t) => Number(t.split(":")[0]))).toEqual([...Array(texts.length).keys()]);
  });

  it("closes a broadcaster that stops reading during a long replay with 4008 after a prefix of the history", async () => {
    const manager = await connect("/ws/manager");
    const body = "r".repeat(16_000);
    const base = manager.frames.filter(isReply).length;
    manager.send("replay-start");
    for (let i = 0; i < 400; i++) manager.send(`${i}:${body}`); // ~6.4 MB of history
    const replies = await manager.collect(base + 401, isReply, 20_000);
    expect(replies.slice(base).every(isAck)).toBe(true);
    const before = await openSockets();
    const { sock, rest } = await pausedWebSocket(app.port, `/ws/broadcast?since=${replies[base].seq}`);
    await until(async () => (await openSockets()) === before, { message: "the stalled replay to be closed", timeoutMs: 15_000 });
    const { texts, code } = await readToClose(sock, rest);
    expect(code).toBe(4008);
    expect(texts.length).toBeLessThan(400);
    expect(texts.map((t) => Number(t.split(":")[0]))).toEqual([...Array(texts.length).keys()]);
  });
});

/** Reads a paused raw socket again up to the server's close frame: the text frames before it, and its code. */
async function readToClose(sock: Socket, rest: Buffer): Promise<{ texts: string[]; code: number }> {
  const chunks: Buffer[] = [rest];
  sock.on("data", (chunk: Buffer) => chunks.push(chunk));
  sock.resume();
  const frames = await until(
    () => {
      const { frames } = serverFrames(Buffer.concat(chunks));
      return frames.some((f) => f.op === 0x8) && frames;
    },
    { message: "the server's close frame", timeoutMs: 15_000 },
  );
  sock.destroy();
  const close = frames.findIndex((f) => f.op === 0x8);
  expect(frames.slice(0, close).every((f) => f.op === 0x1)).toBe(true);
  return { texts: frames.slice(0, close).map((f) => f.payload.toString("utf8")), code: closeCode(frames[close]!) };
}

function compareSeqs(a: string, b: string): number {
  const [am, an] = a.split("-").map(Number) as [number, number];
  const [bm, bn] = b.split("-").map(Number) as [number, number];
  return am - bm || an - bn;
}
