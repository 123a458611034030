/**
 * An SSE stream on `chat,cron` resumed from the id of a tick, in both storage modes. Its ticks
 * carry ids of the stream's own (`<newest durable position>.<k>`, connection.ts `sendTick`), not
 * the tick's `<ms>-0`: a resume from one replays every chat entry the stream had not sent yet,
 * even one numbered before the tick, as Redis numbers entries by its own clock (here: this
 * instance's clock 1.5 s ahead of it) or when the tail is a moment behind. (With the tick's seq
 * as id, such an entry was skipped, or the resume answered `recovered:false`.)
 */
import { afterAll, describe, expect, it } from "bun:test";
import { type Clock, systemClock } from "../src/core/clock.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";

const ahead: Clock = { ...systemClock, now: () => systemClock.now() + 1500 };

const post = async (app: Tickwire, content: string) => {
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { seq: string };
};

describe.each(MODES)("SSE resume from a tick's id ($name)", (mode) => {
  let app: Tickwire;
  afterAll(() => app?.stop());

  it("replays the chat entries after the stream's position, none skipped and no reload", async () => {
    app = await startServer({ ...mode.env(uniquePrefix("sse-tick")), TICK_MS: "100" }, ahead);
    const before = await post(app, "before");
    const first = await sseClient(`${app.url}/events?topics=chat,cron`);
    const tick = await first.next((e) => e.json?.topic === "cron", 5000);
    first.close();
    expect(tick.json.seq).toMatch(/^\d+-0$/); // the frame keeps the tick's seq
    expect(tick.id).not.toBe(tick.json.seq);
    const after = await post(app, "after the tick");
    const resumed = await sseClient(`${app.url}/events?topics=chat,cron`, { "Last-Event-ID": tick.id! });
    const got = await resumed.next((e) => e.json?.topic === "chat" || e.event === "recovered", 5000);
    resumed.close();
    expect(got.event).toBeUndefined();
    expect({ id: got.id, content: got.json.content }).toEqual({ id: after.seq, content: "after the tick" });
    expect(resumed.events.filter((e) => e.json?.seq === before.seq)).toEqual([]);
  });
});
