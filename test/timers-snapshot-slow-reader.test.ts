/**
 * A game master that reads slowly gets its whole snapshot: the frames go out as its socket
 * drains, however far the snapshot is past `WS_BACKPRESSURE_LIMIT`, then the socket goes live
 * from the snapshot's position, so a change made while it waited comes after it, once. (It used to
 * be closed with 4008 as soon as Bun dropped a frame, and a reconnect only started it over: a
 * game master with more timers than its link takes at once could never connect.)
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tickwire } from "../src/main.ts";
import { closeCode, pausedWebSocket, type ServerFrame, serverFrames } from "./support/raw-ws.ts";
import { startServer } from "./support/server.ts";
import { writeTimers } from "./support/timers-file.ts";
import { until } from "./support/until.ts";

// ~5 MB of snapshot: past what the loopback buffers take at once (~4 MB) and the 1 KiB limit.
const TIMERS = 20_000;
const dir = mkdtempSync(join(tmpdir(), "tw-slow-gm-"));

let app: Tickwire;
beforeAll(async () => {
  // Every timer loaded counts as delivered.
  const file = `sqlite:${join(dir, "timers.db")}`;
  await writeTimers(file, TIMERS, "slow");
  app = await startServer({ DATABASE_URL: file, WS_BACKPRESSURE_LIMIT: "1024", TIMERS_PER_SESSION: "30000", TIMERS_MAX: "30000", TICK_MS: "1000" });
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const create = (sessionId: string) =>
  fetch(`${app.url}/timer`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sessionId, maxTime: 3600 }) });

describe("timer snapshot to a slow reader", () => {
  it("sends every timer as the socket drains, then live frames from the snapshot's position", async () => {
    // A game master that reads nothing at first: the server must wait for it, not drop frames.
    const { sock: slow, rest } = await pausedWebSocket(app.port, "/ws/gamemaster/slow");
    const created = (await (await create("slow")).json()) as { id: number };
    let bytes = rest;
    const frames: ServerFrame[] = [];
    slow.on("data", (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const { frames: complete, used } = serverFrames(bytes);
      frames.push(...complete);
      bytes = bytes.subarray(used);
      // Read slowly: a pause after each chunk, so that the server's buffer fills again.
      slow.pause();
      setImmediate(() => slow.resume());
    });
    slow.resume();
    const json = () => frames.filter((f) => f.op === 0x1).map((f) => JSON.parse(String(f.payload)));
    const closed = () => frames.find((f) => f.op === 0x8);
    await until(() => closed() !== undefined || json().some((f) => f.type === "TIMER_CREATE" && f.payload?.id === created.id), {
      message: () => `the snapshot and the live create; got ${json().length} frames`,
      timeoutMs: 20_000,
    });
    expect(closed() && closeCode(closed()!)).toBeUndefined();
    const updates = json().filter((f) => f.type === "TIMER_UPDATE" && f.seq.includes("."));
    const snapshotIds = updates.slice(0, TIMERS).map((f) => f.payload.id);
    expect(new Set(snapshotIds).size).toBe(TIMERS);
    // The create came after the snapshot, once (whether it was in the snapshot or replayed after it).
    expect(json().filter((f) => f.type === "TIMER_CREATE" && f.payload?.id === created.id)).toHaveLength(1);
    slow.destroy();
  });
});
