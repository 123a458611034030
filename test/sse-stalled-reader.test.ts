/**
 * An SSE reader that stops reading is let go (found 2026-12-04, fixed 2026-12-04). While its socket
 * is backed up, ephemeral events are dropped and pings skipped, and a durable event that does not
 * fit ends the stream; but on a quiet topic (or ticks only) nothing more comes to overflow it, so
 * a stopped client held its socket and stream state for good. A stream that stays backed up
 * through three pings in a row now ends with `event: overflow`, and its socket is closed by Bun's
idle timeout (10 s) once the stream has ended.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { connect } from "node:net";
import type { Tickwire } from "../src/main.ts";
import { startServer } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";

let app: Tickwire;
beforeAll(async () => {
  app = await startServer({ SSE_PING_MS: "100", WS_BACKPRESSURE_LIMIT: String(64 * 1024 * 1024) });
});
afterAll(() => app.stop());

const sseCount = async () => ((await (await fetch(`${app.url}/health`)).json()) as any).connections.sse as number;

/** The state of the server's end of the connection from client port `port` (`ss`), if it is still there. */
async function serverSide(port: number): Promise<string | undefined> {
  const out = await new Response(Bun.spawn(["ss", "-tnH", "state", "all", `( sport = :${app.port} and dport = :${port} )`]).stdout).text();
  return out.trim().split(/\s+/)[0] || undefined;
}

it("ends a stream whose reader stopped once the topic goes quiet, and closes its socket", async () => {
  const sock = connect(app.port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  sock.write("GET /events?topics=chat,cron HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  await new Promise((r) => sock.once("data", r));
  sock.pause(); // never read again (until the end)
  const normal = await sseClient(`${app.url}/events?topics=chat`);
  await until(async () => (await sseCount()) === 2, { message: "both streams" });
  // More than the loopback buffers hold, far less than the queue: the stalled stream backs up
  // without overflowing, and then the topic goes quiet.
  const content = "z".repeat(4000);
  const total = 1500;
  for (let i = 0; i < total; i++) {
    const res = await fetch(`${app.url}/messages`, { method: "POST", body: JSON.stringify({ content: `${i}:${content}` }) });
    expect(res.status).toBe(201);
  }
  await normal.collect(total, (e) => e.json?.topic === "chat", 20_000);
  await until(async () => (await sseCount()) === 1, { message: "the stalled stream to end", timeoutMs: 15_000 });
  // Bun keeps the bytes it could not send, and the socket, until its idle timeout closes it.
  await until(async () => (await serverSide(sock.localPort!)) !== "ESTAB", { message: "its socket to close", timeoutMs: 25_000 });
  expect(await sseCount()).toBe(1); // the stream that reads is kept
  expect(normal.comments).toContain("ping");

  // The stalled client reads again: what the kernel held for it, in order, then the end (the
  // overflow event was among the bytes Bun dropped with the socket). It resumes from there.
  let text = "";
  sock.setEncoding("latin1");
  const ended = new Promise<void>((resolve) => {
    sock.on("data", (d: string) => void (text += d));
    sock.on("end", () => resolve());
    sock.on("close", () => resolve());
  });
  sock.resume();
  await ended;
  const ids = [...text.matchAll(/"content":"(\d+):/g)].map((m) => Number(m[1]));
  expect(ids.length).toBeGreaterThan(0);
  expect(ids.length).toBeLessThan(total);
  expect(ids.every((id, i) => id === i)).toBe(true);
  sock.destroy();
  normal.close();
}, 40_000);
