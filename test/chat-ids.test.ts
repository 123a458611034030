/**
 * Issue #19: chat message ids in exactly the seed's form, `YYYYMMDDhhmmss.ffffff`, unique and
 * increasing: many posts in the same microsecond (a clock that does not move), concurrent posts on
 * two instances sharing Redis (even when their clocks disagree by an hour), and a restart of the
 * embedded server with a clock that stepped back.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config/index.ts";
import { compareSeq } from "../src/core/seq.ts";
import { VirtualClock } from "../src/core/virtual-clock.ts";
import { silentLogger } from "../src/log.ts";
import { startTickwire, type Tickwire } from "../src/main.ts";
import { REDIS_URL, uniquePrefix } from "./support/server.ts";

const ID = /^\d{14}\.\d{6}$/;
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5) + 678;

/** A server whose clock stands still at `at` unless the test moves it. */
async function serverAt(clock: VirtualClock, env: Record<string, string> = {}): Promise<Tickwire> {
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: "sqlite::memory:", ...env });
  return startTickwire(config, { clock, logger: silentLogger });
}

async function post(app: Tickwire, content: string): Promise<{ id: string; timestamp: string; seq: string }> {
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; timestamp: string; seq: string };
}

const running: Tickwire[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const app of running) await app.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `[a, b, …]` strictly increasing as strings (ids of one form compare as their instants). */
const expectIncreasing = (ids: string[]) => {
  for (let i = 1; i < ids.length; i++) if (!(ids[i - 1]! < ids[i]!)) throw new Error(`id ${ids[i]} after ${ids[i - 1]}`);
};

describe("chat message ids", () => {
  it("are the seed's form exactly, name the post's instant, and take the next free microsecond when posts share one", async () => {
    const clock = new VirtualClock(T0);
    const app = await serverAt(clock);
    running.push(app);
    const sent = await Promise.all(Array.from({ length: 50 }, (_, i) => post(app, `m${i}`)));
    for (const m of sent) expect(m.id).toMatch(ID);
    // The clock did not move: 50 consecutive microseconds from the instant, in the log's order.
    const bySeq = [...sent].sort((x, y) => compareSeq(x.seq, y.seq));
    expect(bySeq.map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => `20260102030405.${String(678_000 + i).padStart(6, "0")}`));
    expect(new Set(sent.map((m) => m.timestamp))).toEqual(new Set(["2026-01-02T03:04:05.678Z"]));
    // The same id in the frames and in the history.
    const history = (await (await fetch(`${app.url}/messages?limit=50`)).json()) as { messages: { id: string; seq: string }[] };
    expect(history.messages.map((m) => m.id)).toEqual(bySeq.map((m) => m.id));
  });

  it("stay unique and increasing across a restart whose clock stepped back an hour (embedded file)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tw-chat-ids-"));
    dirs.push(dir);
    const env = { DATABASE_URL: `sqlite:${join(dir, "tw.db")}` };
    const first = await serverAt(new VirtualClock(T0), env);
    const before = [await post(first, "a"), await post(first, "b")];
    await first.stop();
    const second = await serverAt(new VirtualClock(T0 - 3_600_000), env);
    running.push(second);
    const after = [await post(second, "c"), await post(second, "d")];
    expectIncreasing([...before, ...after].map((m) => m.id));
    for (const m of after) expect(m.id).toMatch(ID);
  });

  it("are unique under concurrent posts on two instances sharing Redis, in the order issued, whatever their clocks say", async () => {
    const prefix = uniquePrefix("chat-ids");
    const env = { REDIS_URL, STREAM_PREFIX: prefix };
    // Both clocks stand still: A at T0, B an hour behind (a clock that stepped back, or skew).
    const a = await serverAt(new VirtualClock(T0), env);
    const b = await serverAt(new VirtualClock(T0 - 3_600_000), env);
    running.push(a, b);
    const total = 200;
    const sent = await Promise.all(Array.from({ length: total }, (_, i) => post(i % 2 ? a : b, `x${i}`).then((m) => ({ ...m, on: i % 2 ? "a" : "b" }))));
    for (const m of sent) expect(m.id).toMatch(ID);
    expect(new Set(sent.map((m) => m.id)).size).toBe(total);
    // Per instance, ids increase in the order its messages entered the log.
    for (const on of ["a", "b"])
      expectIncreasing(
        sent
          .filter((m) => m.on === on)
          .sort((x, y) => compareSeq(x.seq, y.seq))
          .map((m) => m.id),
      );
    // One after the other, alternating instances: each id is after the one before.
    const sequential: string[] = [];
    for (let i = 0; i < 10; i++) sequential.push((await post(i % 2 ? a : b, `s${i}`)).id);
    expectIncreasing([...sent.map((m) => m.id).sort(), ...sequential]);
  });
});
