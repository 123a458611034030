/**
 * Issue 16, offsets that never lie, in embedded mode across a `kill -9` (child processes):
 * - `DATABASE_URL=sqlite:<file>` keeps the chat and relay logs in the SQLite file: a restarted
 *   server resumes SSE `Last-Event-ID`, `GET /messages?since=` and `/ws/broadcast?since=` with
 *   exactly what came after that seq (same epoch, recovered, nothing lost, nothing twice), and
 *   its new seqs come after the old ones;
 * - the very first entry of a new log belongs to its epoch: resuming from it is recovered;
 * - `DATABASE_URL=sqlite::memory:` loses its history with the process: after a restart the
 *   history is a new epoch, and resuming from an old seq is told `recovered:false` first.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config/index.ts";
import { type Clock, systemClock } from "../src/core/clock.ts";
import { compareSeq } from "../src/core/seq.ts";
import { silentLogger } from "../src/log.ts";
import { startTickwire } from "../src/main.ts";
import { type ChildServer, spawnServer, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

// Response bodies are checked by the assertions; typed loosely on purpose.
const anyJson = (v: unknown): any => v;

const EPOCH = /^[0-9a-f]{8}$/;

const children: ChildServer[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const child of children) {
    child.proc.kill(9);
    await child.exited;
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function spawn(env: Record<string, string>): Promise<ChildServer> {
  const child = await spawnServer(env);
  children.push(child);
  return child;
}

async function killHard(child: ChildServer): Promise<void> {
  child.proc.kill(9);
  expect(await child.exited).not.toBe(0);
}

async function post(server: ChildServer, content: string): Promise<string> {
  const res = await fetch(`${server.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return (await res.json().then(anyJson)).seq;
}

async function history(server: ChildServer, since: string): Promise<any> {
  const res = await fetch(`${server.url}/messages?since=${since}`);
  expect(res.status).toBe(200);
  return res.json().then(anyJson);
}

async function openWs(url: string): Promise<WsTestClient> {
  const c = wsClient(url);
  await c.opened;
  return c;
}

/** Sends `messages` as a manager and returns their ack seqs, in order. */
async function relay(server: ChildServer, messages: readonly string[]): Promise<string[]> {
  const manager = await openWs(wsUrl(server, "/ws/manager"));
  for (const m of messages) manager.send(m);
  const acks = await manager.collect(messages.length, (f) => f?.op === "ack" || f?.op === "error");
  manager.close();
  expect(acks.every((a: any) => a.op === "ack")).toBe(true);
  return acks.map((a: any) => a.seq as string);
}

const isChat = (f: any) => f?.topic === "chat" && f.op === undefined;

describe("embedded log in a SQLite file survives kill -9", () => {
  it("resumes chat (SSE, GET /messages) and relay (/ws/broadcast) with exactly what came after the seq", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tw-offsets-"));
    dirs.push(dir);
    const env = { DATABASE_URL: `sqlite:${join(dir, "t.db")}` };
    const first = await spawn(env);

    const seqs: string[] = [];
    for (let i = 1; i <= 5; i++) seqs.push(await post(first, `m${i}`));
    const before = await history(first, seqs[1]!);
    expect(before.recovered).toBe(true);
    expect(before.messages.map((m: any) => m.seq)).toEqual(seqs.slice(2));
    expect(before.epoch).toMatch(EPOCH);
    const chatEpoch = before.epoch as string;
    const relayed = ['{"n":1,"text":"one"}', "plain text two", '{"n":3,"nested":{"a":[1,2,3]}}'] as const;
    const relaySeqs = await relay(first, relayed);

    await killHard(first);
    const second = await spawn(env);

    // SSE: exactly messages 3..5, then live ones, with no `event: recovered`.
    const sse = await sseClient(`${second.url}/events`, { "Last-Event-ID": seqs[1]! });
    const replayed = await sse.collect(3);
    expect(replayed.map((e) => e.id)).toEqual(seqs.slice(2));
    expect(replayed.map((e) => e.json.content)).toEqual(["m3", "m4", "m5"]);
    expect(replayed.map((e) => e.json.epoch)).toEqual([chatEpoch, chatEpoch, chatEpoch]);
    const live = await post(second, "live");
    expect(compareSeq(live, seqs[4]!)).toBeGreaterThan(0);
    const events = await sse.collect(4);
    expect(events.map((e) => e.id)).toEqual([...seqs.slice(2), live]);
    expect(events[3]!.json).toMatchObject({ topic: "chat", seq: live, content: "live", epoch: chatEpoch });
    expect(sse.events.filter((e) => e.event !== undefined)).toEqual([]);

    const after = await history(second, seqs[1]!);
    expect(after.recovered).toBe(true);
    expect(after.epoch).toBe(chatEpoch);
    expect(after.messages.map((m: any) => [m.seq, m.content])).toEqual([
      [seqs[2], "m3"],
      [seqs[3], "m4"],
      [seqs[4], "m5"],
      [live, "live"],
    ]);

    // WS resume too: the same four, no recovered frame.
    const ws = await openWs(wsUrl(second, `/ws?topics=chat&since=${seqs[1]}`));
    await ws.next((f) => isChat(f) && f.seq === live);
    expect(ws.frames.filter((f: any) => f?.op !== undefined)).toEqual([]);
    expect(ws.frames.filter(isChat).map((f: any) => f.seq)).toEqual([...seqs.slice(2), live]);

    // Relay: the two messages after the first ack, verbatim, then a live one.
    const broadcaster = await openWs(wsUrl(second, `/ws/broadcast?since=${relaySeqs[0]}`));
    await broadcaster.collect(2);
    const [liveSeq] = await relay(second, ["after the restart"]);
    expect(compareSeq(liveSeq!, relaySeqs[2]!)).toBeGreaterThan(0);
    await broadcaster.collect(3);
    expect(broadcaster.raw).toEqual([relayed[1], relayed[2], "after the restart"]);

    // And once more: a second kill -9 keeps the live ones too.
    sse.close();
    ws.close();
    broadcaster.close();
    await killHard(second);
    const third = await spawn(env);
    const again = await history(third, seqs[1]!);
    expect(again).toMatchObject({ recovered: true, epoch: chatEpoch });
    expect(again.messages.map((m: any) => m.seq)).toEqual([...seqs.slice(2), live]);
    const bc = await openWs(wsUrl(third, `/ws/broadcast?since=${relaySeqs[1]}`));
    await bc.collect(2);
    const [lastSeq] = await relay(third, ["last"]);
    await bc.collect(3);
    expect(bc.raw).toEqual([relayed[2], "after the restart", "last"]);
    expect(compareSeq(lastSeq!, liveSeq!)).toBeGreaterThan(0);
    bc.close();
    await killHard(third);
  });
});

describe("embedded log in memory (sqlite::memory:) is a new epoch after a restart", () => {
  it("a resume from an old seq is told recovered:false first", async () => {
    const env = { DATABASE_URL: "sqlite::memory:" };
    const first = await spawn(env);
    const seqs = [await post(first, "a"), await post(first, "b"), await post(first, "c")];
    const oldEpoch = (await history(first, seqs[1]!)).epoch as string;
    expect(oldEpoch).toMatch(EPOCH);
    const relaySeqs = await relay(first, ["r1", "r2", "r3"]);
    await killHard(first);
    const second = await spawn(env);

    const sse = await sseClient(`${second.url}/events`, { "Last-Event-ID": seqs[1]! });
    const ev = await sse.next();
    expect(ev.event).toBe("recovered");
    expect(ev.json).toEqual({ op: "recovered", topic: "chat", recovered: false });

    const ws = await openWs(wsUrl(second, `/ws?topics=chat&since=${seqs[1]}`));
    expect(await ws.next()).toEqual({ op: "recovered", topic: "chat", recovered: false });
    const inBand = await openWs(wsUrl(second, "/ws?topics="));
    inBand.send({ op: "subscribe", topic: "chat", since: seqs[1], ref: 1 });
    expect(await inBand.next()).toEqual({ op: "ack", ref: 1, topic: "chat" });
    expect(await inBand.next()).toEqual({ op: "recovered", topic: "chat", recovered: false });

    const body = await history(second, seqs[1]!);
    expect(body.recovered).toBe(false);
    expect(body.messages).toEqual([]);
    expect(body.epoch).not.toBe(oldEpoch);

    const broadcaster = await openWs(wsUrl(second, `/ws/broadcast?since=${relaySeqs[0]}`));
    expect(await broadcaster.next()).toEqual({ op: "recovered", topic: "relay", recovered: false });

    // Then live delivery in the new epoch, once each.
    const live = await post(second, "live");
    const frame = await ws.next(isChat);
    expect(frame).toMatchObject({ seq: live, content: "live" });
    expect(frame.epoch).toMatch(EPOCH);
    expect(frame.epoch).not.toBe(oldEpoch);
    await inBand.next(isChat);
    expect((await sse.next((e) => e.id === live)).json.content).toBe("live");
    await relay(second, ["fresh"]);
    expect(await broadcaster.next()).toBe("fresh");
    expect(broadcaster.raw.length).toBe(2);
    for (const c of [ws, inBand, broadcaster]) c.close();
    sse.close();
    await killHard(second);
  });
});

/**
 * The system clock on a machine so busy that every reading comes at least 1 ms after the one
 * before (preemption, a GC pause between two reads): what a cold process often shows anyway.
 */
function busyClock(): Clock {
  let last = 0;
  return { now: () => (last = Math.max(systemClock.now(), last + 1)), setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
}

describe("the first entry of a new embedded log is inside its epoch", () => {
  it.each(["file", "memory"])("resuming from a new log's first message is recovered (%s, busy clock)", async (kind) => {
    const dir = mkdtempSync(join(tmpdir(), "tw-offsets-first-"));
    dirs.push(dir);
    const url = kind === "file" ? `sqlite:${join(dir, "first.db")}` : "sqlite::memory:";
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: url });
    const app = await startTickwire(config, { clock: busyClock(), logger: silentLogger });
    try {
      const post = async (content: string) => {
        const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
        expect(res.status).toBe(201);
        return (await res.json().then(anyJson)).seq as string;
      };
      const first = await post("first");
      const epoch = app.ctx.hub.log.epoch?.("chat");
      const body = await fetch(`${app.url}/messages?since=${first}`).then((r) => r.json().then(anyJson));
      expect({ first, epochStart: epoch?.start, recovered: body.recovered }).toEqual({ first, epochStart: epoch?.start, recovered: true });
      const second = await post("second");
      const sse = await sseClient(`${app.url}/events`, { "Last-Event-ID": first });
      const ev = await sse.next();
      sse.close();
      expect({ event: ev.event, id: ev.id }).toEqual({ event: undefined, id: second });
    } finally {
      await app.stop();
    }
  });
});
