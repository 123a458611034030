/**
 * `/ws?topics=chat,cron` resumed with a single `since` that is a cron tick's seq (`<tick>-0`,
 * the SPEC allows the last seq of either kind). Redis numbers entries by its own clock, here 1.5 s
 * behind this instance's: a chat entry posted after the tick is numbered before it. A resume from
 * the tick's seq starts at the tick's mark (what the hub had delivered when the tick went out,
 * `core/tick-marks.ts`), so that entry is replayed, with no reload and nothing repeated. Without
 * the marks it was skipped (or the resume answered `recovered:false`). In Redis mode the marks
 * are shared: a second instance whose own clock has not reached that tick yet resumes from the
 * first one's mark.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { type Clock, systemClock } from "../src/core/clock.ts";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const ahead: Clock = { ...systemClock, now: () => systemClock.now() + 1500 };

const post = async (app: Tickwire, content: string) => {
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { seq: string };
};

/** Connects to `chat,cron`, waits for a tick, disconnects; the tick's seq. */
async function seeTick(app: Tickwire): Promise<string> {
  const client = wsClient(wsUrl(app, "/ws?topics=chat,cron"));
  const tick = await client.next((f) => f.topic === "cron", 5000);
  client.close();
  await client.closed;
  expect(tick.seq).toMatch(/^\d+-0$/);
  return tick.seq;
}

/** Resumes `chat,cron` from `since` on `app`; the first chat frame or `recovered` op, and the client. */
async function resume(app: Tickwire, since: string) {
  const client = wsClient(wsUrl(app, `/ws?topics=chat,cron&since=${since}`));
  const got = await client.next((f) => f.topic === "chat" || f.op === "recovered", 5000);
  client.close();
  return { got, frames: client.frames as { topic?: string; seq?: string }[] };
}

describe.each(MODES)("WS resume from a tick's seq ($name)", (mode) => {
  const apps: Tickwire[] = [];
  afterAll(() => Promise.all(apps.map((a) => a.stop())));

  it("replays the chat entries the client had not received, none skipped or repeated", async () => {
    const app = await startServer({ ...mode.env(uniquePrefix("ws-tick")), TICK_MS: "100" }, ahead);
    apps.push(app);
    const before = await post(app, "before");
    const tick = await seeTick(app);
    const after = await post(app, "after the tick");
    // Then entries numbered after the tick too: the tick's seq is no longer past the log's end,
    // so a resume from it would not be refused, only skip "after the tick" (in Redis mode).
    await until(async () => compareSeq((await post(app, "later")).seq, tick) > 0, { intervalMs: 50 });
    const { got, frames } = await resume(app, tick);
    expect(got.op).toBeUndefined();
    expect({ seq: got.seq, content: got.content }).toEqual({ seq: after.seq, content: "after the tick" });
    expect(frames.filter((f) => f.seq === before.seq)).toEqual([]);
  });

  it.skipIf(mode.name === "embedded")("resumes on another instance from the mark of the one that sent the tick", async () => {
    const prefix = uniquePrefix("ws-tick-2");
    const env = { ...mode.env(prefix), TICK_MS: "100" };
    // `a` runs 1.5 s ahead: `b`, on Redis's clock, has not sent that tick yet when the client moves.
    const a = await startServer(env, ahead);
    const b = await startServer(env);
    apps.push(a, b);
    const before = await post(a, "before");
    const tick = await seeTick(a);
    const after = await post(b, "after the tick");
    const { got, frames } = await resume(b, tick);
    expect(got.op).toBeUndefined();
    expect({ seq: got.seq, content: got.content }).toEqual({ seq: after.seq, content: "after the tick" });
    expect(frames.filter((f) => f.seq === before.seq)).toEqual([]);
  });
});
