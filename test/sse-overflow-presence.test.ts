/**
 * An SSE stream that overflows while its transport writes a turn's events closes inside that
 * write; on a presence-announced topic (`session:*` by default) the close appends a `leave`,
 * which the embedded log delivers at once, in the middle of the chat entry's delivery. A
 * WebSocket subscriber of `chat` must still get that chat entry (it used to be skipped: the
 * nested delivery overwrote the hub's receiver counts, and nothing told the client).
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { connect } from "node:net";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

let app: Tickwire;
beforeAll(async () => {
  app = await startServer({ WS_BACKPRESSURE_LIMIT: "65536", HISTORY_SIZE: "100000" });
});
afterAll(() => app.stop());

const health = async () => (await (await fetch(`${app.url}/health`)).json()) as { connections: { sse: number; ws: number } };
type ChatFrame = { topic?: string; id?: number };

it("a WS subscriber of chat loses nothing while an SSE stream on chat and session:abc overflows", async () => {
  // The stalled SSE reader: it reads the headers, then nothing.
  const sock = connect(app.port, "127.0.0.1");
  await new Promise((resolve) => sock.once("connect", resolve));
  sock.write("GET /events?topics=chat,session:abc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  await new Promise((resolve) => sock.once("data", resolve));
  sock.pause();
  const b = wsClient(wsUrl(app, "/ws?topics=chat"));
  await b.opened;
  await until(async () => {
    const { connections } = await health();
    return connections.sse === 1 && connections.ws === 1;
  });
  const has = (id: number) => b.frames.some((f) => (f as ChatFrame)?.topic === "chat" && (f as ChatFrame).id === id);

  const pad = "z".repeat(400);
  let id = 0;
  for (let batch = 0; (await health()).connections.sse === 1; batch++) {
    expect(batch).toBeLessThan(2000);
    // 64 appends in one turn: the SSE transport writes the turn's events inside the 64th delivery.
    for (let i = 0; i < 64; i++) void app.ctx.hub.append("chat", { type: "message", id: id++, content: pad });
    // The subscriber keeps up (the 64th may be the one lost, so wait for the 63rd).
    const want = id - 2;
    await until(() => has(want) || b.ws.readyState !== WebSocket.OPEN, { message: `entry ${want}` });
  }
  // One more, alone in its turn: once it is there, everything before it had its chance.
  const last = id++;
  await app.ctx.hub.append("chat", { type: "message", id: last, content: "last" });
  await until(() => has(last) || b.ws.readyState !== WebSocket.OPEN, { message: "the last entry" });
  const got = new Set(b.frames.filter((f) => (f as ChatFrame)?.topic === "chat").map((f) => (f as ChatFrame).id));
  const missing = Array.from({ length: id }, (_, i) => i).filter((i) => !got.has(i));
  sock.destroy();
  b.close();
  expect(b.ws.readyState === WebSocket.OPEN || b.ws.readyState === WebSocket.CLOSING).toBe(true);
  expect(missing).toEqual([]);
}, 60_000);
