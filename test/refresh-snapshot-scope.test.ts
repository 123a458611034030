/**
 * A refreshed token with fewer rights is refused while a timer snapshot is still being sent
 * (found by review, 2026-12-04): on /ws/customer/{id} and /ws/gamemaster/{id} the socket
 * subscribes to its topic only once the snapshot is out, and the refresh was checked against the
 * topics it had so far (none), so a token that may not subscribe to the topic was acked and the
 * socket then got its live timer events. The route's topic is checked too now.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { pausedWebSocket, type ServerFrame, serverFrames } from "./support/raw-ws.ts";
import { startServer } from "./support/server.ts";
import { writeTimers } from "./support/timers-file.ts";
import { until } from "./support/until.ts";

const SECRET = "rev8-secret-0123456789abcdef";
const TIMERS = 20_000;
const dir = mkdtempSync(join(tmpdir(), "rev8-snap-"));
let app: Tickwire;

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

beforeAll(async () => {
  const file = `sqlite:${join(dir, "timers.db")}`;
  await writeTimers(file, TIMERS, "s1", { paused: true });
  app = await startServer({ DATABASE_URL: file, JWT_SECRET: SECRET, WS_BACKPRESSURE_LIMIT: "1024", TIMERS_PER_SESSION: "30000", TIMERS_MAX: "30000" });
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it.each([
  ["/ws/customer/s1", "session:s1"],
  ["/ws/gamemaster/s1", "timers"],
])(
  "%s: a refresh dropping %s during the snapshot is refused, or stops the frames",
  async (path, topic) => {
    const customer = await mintToken(SECRET, { sub: "c", subscribe: [topic], publish: [], expiresIn: 600 });
    const fewer = await mintToken(SECRET, { sub: "c", subscribe: ["chat"], publish: [], expiresIn: 600 });
    const admin = await mintToken(SECRET, { sub: "admin", subscribe: ["*"], publish: ["*"], expiresIn: 600 });
    const { sock, rest } = await pausedWebSocket(app.port, `${path}?token=${customer}`);
    sock.write(maskedText(JSON.stringify({ op: "refresh", token: fewer, ref: "down" })));
    let bytes = rest;
    const frames: ServerFrame[] = [];
    sock.on("data", (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const { frames: complete, used } = serverFrames(bytes);
      frames.push(...complete);
      bytes = bytes.subarray(used);
    });
    const json = () => frames.filter((f) => f.op === 0x1).map((f) => JSON.parse(String(f.payload)));
    sock.resume();
    const reply = await until(() => json().find((f) => f.ref === "down"), { timeoutMs: 20_000, message: () => `refresh reply; ${json().length} frames` });
    // Wait for the snapshot to end (all TIMERS updates received).
    await until(() => json().filter((f) => f.type === "TIMER_UPDATE" && f.payload?.sessionId === "s1").length >= TIMERS, { timeoutMs: 20_000 });
    const res = await fetch(`${app.url}/timer`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${admin}` },
      body: JSON.stringify({ sessionId: "s1", maxTime: 3600 }),
    });
    const created = (await res.json()) as { id: number };
    // Control: a session:s1 socket of the old rights sees the create; wait for it to reach the hub.
    const control = new WebSocket(`ws://127.0.0.1:${app.port}${path}?since=0&token=${customer}`);
    await new Promise<void>((resolve) => {
      control.onmessage = (e) => {
        const f = JSON.parse(String(e.data));
        if (f.type === "TIMER_CREATE" && f.payload?.id === created.id) resolve();
      };
    });
    control.close();
    // Then a frame answered after the create reached the hub: a fence.
    sock.write(maskedText(JSON.stringify({ op: "refresh", token: fewer, ref: "fence" })));
    await until(() => json().find((f) => f.ref === "fence"), { timeoutMs: 10_000 });
    const leaked = json().filter((f) => f.type === "TIMER_CREATE" && f.payload?.id === created.id);
    // Either the refresh is refused (old rights stand) or, acked, the session's frames stop.
    if (reply.op === "ack") expect(leaked).toEqual([]);
    else expect(reply).toMatchObject({ op: "error", code: "forbidden" });
    sock.destroy();
  },
  60_000,
);
