/**
 * A game master's snapshot of 20 000 timers does not hold the event loop for the whole of it: it
 * goes out a slice per turn, and the server answers other I/O in between (here a WebSocket ping
 * and a game-master command on the same socket, both answered before the snapshot's last frame),
 * while the client still gets every timer exactly once, in order, then the change made while the
 * snapshot was going out (once, after it), then live frames. (It used to be built and sent in one
 * synchronous loop whenever the socket kept up: a connect stalled every other client and the
 * ticker for 130-160 ms.) The backpressure limit is as large as it goes, so that only the
 * per-turn budget can make the snapshot wait, never the socket's drain.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tickwire } from "../src/main.ts";
import { closeCode, pausedWebSocket, type ServerFrame, serverFrames } from "./support/raw-ws.ts";
import { startServer } from "./support/server.ts";
import { writeTimers } from "./support/timers-file.ts";
import { until } from "./support/until.ts";

const TIMERS = 20_000;
const SESSION = "yield";
const dir = mkdtempSync(join(tmpdir(), "tw-snapshot-yield-"));

let app: Tickwire;
beforeAll(async () => {
  // Paused timers written straight into the file the server then loads: no tick frames to sort out.
  const file = `sqlite:${join(dir, "timers.db")}`;
  await writeTimers(file, TIMERS, SESSION, { paused: true });
  app = await startServer({
    DATABASE_URL: file,
    WS_BACKPRESSURE_LIMIT: String(64 * 1024 * 1024),
    TIMERS_PER_SESSION: "30000",
    TIMERS_MAX: "30000",
    WS_PUBLISHES_PER_SECOND: "1000",
  });
});
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A masked client frame (`op` 0x1 text, 0x9 ping) with a payload under 126 bytes. */
function clientFrame(op: number, payload: string): Buffer {
  const data = Buffer.from(payload);
  const mask = randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | op, 0x80 | data.length]), mask, masked]);
}

type Json = { type?: string; seq?: string; op?: string; ref?: string; payload?: { id?: number; maxTime?: number }; timer?: { id: number } };

describe("timer snapshot per event-loop turn", () => {
  it("answers a ping and a command between the snapshot's slices, then goes live with no gap or duplicate", async () => {
    const { sock, rest } = await pausedWebSocket(app.port, `/ws/gamemaster/${SESSION}`);
    // The snapshot has started (its first slice may already be here, with the handshake's answer).
    // Now a ping and a create on the same socket: their answers take their place in its stream.
    sock.write(clientFrame(0x9, "mid-snapshot"));
    sock.write(clientFrame(0x1, JSON.stringify({ type: "TIMER_CREATE", payload: { sessionId: SESSION, maxTime: 77 }, ref: "mid" })));
    // Every frame in stream order, parsed as it comes: JSON frames as themselves, a pong as a marker.
    const all: (Json | "pong")[] = [];
    let close: ServerFrame | undefined;
    let bytes = rest;
    const take = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const { frames, used } = serverFrames(bytes);
      bytes = bytes.subarray(used);
      for (const f of frames) {
        if (f.op === 0x1) all.push(JSON.parse(String(f.payload)) as Json);
        else if (f.op === 0xa) all.push("pong");
        else if (f.op === 0x8) close ??= f;
      }
    };
    take(Buffer.alloc(0));
    sock.on("data", take);
    sock.resume();
    const json = () => all.filter((f): f is Json => f !== "pong");
    const ack = (ref: string) => json().find((f) => f.op === "ack" && f.ref === ref);
    const isCreate = (f: Json, id: number) => f.type === "TIMER_CREATE" && f.payload?.id === id;
    const done = () => {
      const id = ack("mid")?.timer?.id;
      return id !== undefined && json().some((f) => isCreate(f, id));
    };
    await until(() => close !== undefined || done(), {
      message: () => `the snapshot, the ack and the create; got ${all.length} frames`,
      timeoutMs: 20_000,
    });
    expect(close && closeCode(close)).toBeUndefined();
    const created = ack("mid")!.timer!.id;

    // Every timer once, in order, numbered after one position: the whole snapshot.
    const snapshot = all.flatMap((f, i) => (f !== "pong" && f.type === "TIMER_UPDATE" && f.seq?.includes(".") ? [{ f, i }] : []));
    expect(snapshot).toHaveLength(TIMERS);
    const position = snapshot[0]!.f.seq!.split(".")[0];
    expect(snapshot.map(({ f }) => f.seq)).toEqual(snapshot.map((_, k) => `${position}.${k + 1}`));
    const ids = snapshot.map(({ f }) => f.payload!.id!);
    expect(new Set(ids).size).toBe(TIMERS);
    expect(ids).not.toContain(created);
    const last = snapshot.at(-1)!.i;

    // The server answered the ping and ran the command while the snapshot was still going out.
    expect(all.indexOf("pong")).toBeGreaterThan(-1);
    expect(all.indexOf("pong")).toBeLessThan(last);
    expect(all.indexOf(ack("mid")!)).toBeLessThan(last);

    // The create (made during the snapshot) comes after it, once: replayed from its position.
    const creates = all.flatMap((f, i) => (f !== "pong" && isCreate(f, created) ? [i] : []));
    expect(creates).toHaveLength(1);
    expect(creates[0]!).toBeGreaterThan(last);

    // And the socket is live: a change made now arrives once, after the create.
    sock.write(clientFrame(0x1, JSON.stringify({ type: "TIMER_MODIFY", payload: { id: created, maxTime: 88 }, ref: "after" })));
    const isModify = (f: Json) => f.type === "TIMER_MODIFY" && f.payload?.id === created && f.payload?.maxTime === 88;
    await until(() => json().some(isModify) && ack("after"), {
      message: "the live modify",
    });
    const modifies = all.flatMap((f, i) => (f !== "pong" && isModify(f) ? [i] : []));
    expect(modifies).toHaveLength(1);
    expect(modifies[0]!).toBeGreaterThan(creates[0]!);
    // Nothing between the snapshot's position and now was delivered twice.
    const durable = json().filter((f) => f.seq !== undefined && !f.seq.includes("."));
    expect(new Set(durable.map((f) => f.seq)).size).toBe(durable.length);
    sock.destroy();
  });
});
