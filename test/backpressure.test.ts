import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect } from "node:net";
import type { Tickwire } from "../src/main.ts";
import { closeCode, serverFrames, stalledWebSocket } from "./support/raw-ws.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

let app: Tickwire;
beforeAll(async () => {
  app = await startServer({ WS_BACKPRESSURE_LIMIT: "65536", TICK_MS: "1000" });
});
afterAll(() => app.stop());

async function health(): Promise<any> {
  return (await fetch(`${app.url}/health`)).json();
}

describe("WebSocket backpressure", () => {
  it("closes a stalled subscriber that cannot take a durable event (4008) while others get every event in order", async () => {
    const stalled = await stalledWebSocket(app.port, "/ws?topics=chat");
    const normal = wsClient(wsUrl(app, "/ws?topics=chat"));
    await normal.opened;
    await until(async () => (await health()).connections.ws === 2, { message: "both sockets", timeoutMs: 15_000 });
    const content = "x".repeat(4000);
    const total = 1500; // ~6 MB: more than loopback buffers plus the 64 KiB limit
    for (let i = 0; i < total; i++) {
      const res = await fetch(`${app.url}/messages`, { method: "POST", body: JSON.stringify({ content: `${i}:${content}` }) });
      expect(res.status).toBe(201);
    }
    const frames = await normal.collect(total, (f) => f.topic === "chat", 20_000);
    expect(frames.map((f) => Number(f.content.split(":")[0]))).toEqual([...Array(total).keys()]);
    await until(async () => (await health()).connections.ws === 1, { message: "the stalled socket to be closed", timeoutMs: 15_000 });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/tickwire_events_dropped_total\{topic="chat",reason="overflow"\} [1-9]/);
    stalled.destroy();
    normal.close();
  });
});

/** A masked client text frame (payload under 126 bytes), as a browser sends it. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = payload.map((b, i) => b ^ mask[i % 4]!);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(masked)]);
}

describe("WebSocket replies to a socket that does not read", () => {
  it("closes it with 4008 once a reply (an ack) is dropped, instead of dropping acks without a word", async () => {
    const pinger = await startServer({ WS_BACKPRESSURE_LIMIT: "1024", WS_OPS_PER_SECOND: "100000" });
    try {
      const stalled = await stalledWebSocket(pinger.port, "/ws?topics=");
      const received: Buffer[] = [];
      const closed = new Promise<void>((resolve) => stalled.on("close", () => resolve()));
      // ~6 MB of acks, more than the loopback buffers hold: then the server's 1 KiB fills.
      const ping = clientFrame(JSON.stringify({ op: "ping", ref: "r".repeat(100) }));
      for (let sent = 0; sent < 40_000; sent += 1000) stalled.write(Buffer.concat(Array.from({ length: 1000 }, () => ping)));
      const handled = async () => {
        const text = await (await fetch(`${pinger.url}/metrics`)).text();
        return Number(/tickwire_ws_messages_total\{kind="unified",outcome="handled"\} (\d+)/.exec(text)?.[1] ?? 0);
      };
      const open = async () => ((await (await fetch(`${pinger.url}/health`)).json()) as any).connections.ws as number;
      // Every ping answered, or the socket closed (its later pings are not read).
      await until(async () => (await open()) === 0 || (await handled()) >= 40_000, { message: "the server to answer or close", timeoutMs: 20_000 });
      // Reading again: everything the server kept, then its close frame with 4008.
      stalled.on("data", (chunk: Buffer) => received.push(chunk));
      stalled.resume();
      await until(() => closeCodeIn(Buffer.concat(received)) !== undefined, { message: "a close frame", timeoutMs: 20_000 });
      expect(closeCodeIn(Buffer.concat(received))).toBe(4008);
      stalled.destroy();
      await closed;
    } finally {
      await pinger.stop();
    }
  });
});

/** The code of the first close frame in a server's byte stream, if any. */
function closeCodeIn(bytes: Buffer): number | undefined {
  const close = serverFrames(bytes).frames.find((f) => f.op === 0x8);
  return close && closeCode(close);
}

describe("SSE backpressure", () => {
  it("ends a stalled SSE stream with event: overflow, after what it had queued, while a normal stream gets every event in order", async () => {
    const sock = connect(app.port, "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    sock.write("GET /events?topics=chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await new Promise((r) => sock.once("data", r));
    sock.pause(); // not read again until the server has given up on it
    const normal = await sseClient(`${app.url}/events?topics=chat`);
    await until(async () => (await health()).connections.sse === 2, { message: "both SSE streams", timeoutMs: 15_000 });
    const before = await (await fetch(`${app.url}/metrics`)).text();
    const overflowBefore = Number(/tickwire_events_dropped_total\{topic="chat",reason="overflow"\} (\d+)/.exec(before)?.[1] ?? 0);
    const content = "y".repeat(4000);
    let sent = 0;
    for (; sent < 1500 && (await health()).connections.sse === 2; sent++) {
      const res = await fetch(`${app.url}/messages`, { method: "POST", body: JSON.stringify({ content: `${sent}:${content}` }) });
      expect(res.status).toBe(201);
    }
    await until(async () => (await health()).connections.sse === 1, { message: "the stalled stream to end", timeoutMs: 15_000 });
    const after = await (await fetch(`${app.url}/metrics`)).text();
    const overflowAfter = Number(/tickwire_events_dropped_total\{topic="chat",reason="overflow"\} (\d+)/.exec(after)?.[1] ?? 0);
    expect(overflowAfter).toBe(overflowBefore + 1);

    const got = await normal.collect(sent, (e) => e.json?.topic === "chat", 20_000);
    expect(got.map((e) => Number(e.json.content.split(":")[0]))).toEqual([...Array(sent).keys()]);
    normal.close();

    // The stalled client reads again: what was queued for it, in order, then the overflow event
    // and the end of the (chunked) response.
    let text = "";
    sock.setEncoding("latin1");
    const ended = new Promise<void>((resolve) =>
      sock.on("data", (d: string) => {
        text += d;
        if (text.endsWith("\r\n0\r\n\r\n")) resolve();
      }),
    );
    sock.resume();
    await ended;
    const ids = [...text.matchAll(/"content":"(\d+):/g)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toEqual([...Array(ids.length).keys()]);
    expect(text).toMatch(/event: overflow\r?\ndata: \{"op":"overflow"[^\n]*\n\n(\r\n)?0\r\n\r\n$/);
    sock.destroy();
  });
});
