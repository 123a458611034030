/**
 * A snapshot too large for one event-loop turn goes live afterwards from its own position
 * (`snapshot-sender.ts`): that is the server's pacing, not the client's resume, so it takes
 * nothing from the token's replay allowance (`REPLAY_RATE` / `REPLAY_BURST`). With it charged, a
 * game master whose token had spent its allowance got the whole snapshot and then a
 * `rate_limited` error instead of live frames. And `GET /timers` of them all, written a slice per
 * event-loop turn, is still one JSON array of every timer by id.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { writeTimers } from "./support/timers-file.ts";
import { wsClient } from "./support/ws-client.ts";

const SECRET = "snapshot-allowance-secret-0123456789";
const TIMERS = 3000; // more than one turn's budget (1024 frames)
const SESSION = "allowance";
const dir = mkdtempSync(join(tmpdir(), "tw-snapshot-allowance-"));
let app: Tickwire;
let gm: string;

beforeAll(async () => {
  const file = `sqlite:${join(dir, "timers.db")}`;
  await writeTimers(file, TIMERS, SESSION, { paused: true });
  app = await startServer({ DATABASE_URL: file, JWT_SECRET: SECRET, REPLAY_RATE: "1", REPLAY_BURST: "1", TIMERS_PER_SESSION: "5000", TIMERS_MAX: "5000" });
  gm = await new SignJWT({ publish: ["timers"], subscribe: ["timers"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("gm")
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET));
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("GET /timers with thousands of timers (rendered a slice per turn, http/json-array.ts)", () => {
  it("lists every timer once, by id, as one JSON array", async () => {
    const res = await fetch(`${app.url}/timers`, { headers: { Authorization: `Bearer ${gm}` } });
    expect(res.status).toBe(200);
    const list = (await res.json()) as { id: number; sessionId: string; status: string }[];
    expect(list.length).toBeGreaterThanOrEqual(TIMERS);
    const ids = list.map((t) => t.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(list.every((t) => t.sessionId === SESSION)).toBe(true);
  });
});

describe("a game master's large snapshot and the replay allowance", () => {
  it("goes live after the snapshot on every connect, the allowance spent or not", async () => {
    for (let connect = 0; connect < 3; connect++) {
      const client = wsClient(wsUrl(app, `/ws/gamemaster/${SESSION}?token=${gm}`));
      await client.collect(TIMERS, (f) => f.type === "TIMER_UPDATE", 20_000);
      const res = await fetch(`${app.url}/timer`, {
        method: "POST",
        headers: { Authorization: `Bearer ${gm}`, "Content-Type": "application/json" },
        body: JSON.stringify({ sessionId: SESSION, maxTime: 60 + connect }),
      });
      expect(res.status).toBe(201);
      const live = await client.next((f) => f.type === "TIMER_CREATE" || f.op === "error", 10_000);
      client.close();
      expect({ connect, type: live.type, code: live.code }).toEqual({ connect, type: "TIMER_CREATE", code: undefined });
    }
  });
});
