/**
 * `@tickwire/client` resuming at the edges, against real servers:
 * - R2: a subscription started with the application's own `since`, on a server whose history
 *   was replaced (new epoch, its clock behind): after `recovered:false`, the new history's
 *   messages reach `onMessage` although their seqs are below that `since` (WS and SSE);
 * - R5: unsubscribe, then subscribe again from an older seq on the same connection while the
 *   topic is busy: the old subscription's frames still in flight do not hide the replay;
 * - R1: an unsubscribe the server refused (`rate_limited`, on an announced `session:*` topic)
 *   is not taken as done: a later subscribe with `since` still gets its replay.
 */
import { afterAll, describe, expect, it } from "bun:test";
import type { ChatFrame, TimerFrame } from "../packages/client/src/index.ts";
import { type Clock, systemClock } from "../src/core/clock.ts";
import type { Tickwire } from "../src/main.ts";
import { recorder } from "./support/client-recorder.ts";
import { clientOpener } from "./support/clients.ts";
import { startServer } from "./support/server.ts";
import { until } from "./support/until.ts";

const FAST = { backoff: { initialMs: 20, maxMs: 200 }, pingIntervalMs: 0, requestTimeoutMs: 2000 };
const open = clientOpener(FAST);
const apps: Tickwire[] = [];
const serve = async (env: Record<string, string> = {}, clock?: Clock) => {
  const app = await startServer(env, clock);
  apps.push(app);
  return app;
};

afterAll(async () => {
  for (const a of apps) await a.stop().catch(() => {});
});

const contents = (frames: ChatFrame[]) => frames.map((f) => f.content);
const behind = (ms: number): Clock => ({ now: () => systemClock.now() - ms, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout });

async function post(url: string, content: string): Promise<{ seq: string }> {
  const res = await fetch(`${url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { seq: string };
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

describe("R2: an application-given since from a history the server no longer has", () => {
  for (const transport of ["websocket", "sse"] as const) {
    it(`${transport}: after recovered:false, the new history's messages (lower seqs) reach onMessage`, async () => {
      // The seq a page persisted, from the server before its restart.
      const before = await serve();
      await post(before.url, "old-1");
      const { seq: oldSeq } = await post(before.url, "old-2");
      await before.stop();
      // The restarted server: a new history (in-memory log lost), its clock an hour behind.
      const after = await serve({}, behind(3_600_000));
      const client = open(after.url, { transport });
      const chat = recorder<ChatFrame>(oldSeq);
      client.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      await until(() => chat.recovered.length >= 1, { message: "recovered:false" });
      const acked: string[] = [];
      for (let i = 0; i < 3; i++) acked.push((await post(after.url, `new-${i}`), `new-${i}`));
      await chat.until((f) => f.length >= 3, "the new history's messages", 5000);
      expect(contents(chat.frames)).toEqual(acked);
      expect(chat.recovered.map((r) => r.reason)).toEqual(["server"]);
    });
  }
});

describe("R5: unsubscribe, then subscribe again from an older seq on the same connection", () => {
  for (const transport of ["websocket", "sse"] as const) {
    it(`${transport}: the old subscription's frames in flight do not hide the replay`, async () => {
      const app = await serve({ WS_PUBLISHES_PER_SECOND: "100000" });
      const client = open(app.url, { transport });
      const pub = open(app.url, { requestTimeoutMs: 20_000 });
      const first = recorder<ChatFrame>();
      const sub = client.subscribe("chat", first.handlers);
      await first.subscribedAtLeast(1);
      const start = sub.lastSeq;
      expect(start).toBeDefined();
      let running = true;
      let n = 0;
      const acked: string[] = [];
      const pumping = (async () => {
        while (running) {
          const c = `p-${n++}`;
          const batch = [];
          for (let i = 0; i < 5; i++) batch.push(pub.publish("chat", { content: `${c}-${i}` }).then(() => acked.push(`${c}-${i}`)));
          await Promise.all(batch);
        }
      })();
      await first.until((f) => f.length >= 200, "traffic flowing");
      // Show everything from the start again (a "reload history" button), while frames are in flight.
      sub.unsubscribe();
      const again = recorder<ChatFrame>(start);
      client.subscribe("chat", again.handlers);
      await again.subscribedAtLeast(1);
      await until(() => acked.length >= first.frames.length + 300, { message: "more traffic" });
      running = false;
      await pumping;
      const last = acked.at(-1);
      await again.until((f) => f.some((m) => m.content === last), "the last message", 10_000);
      const seen = contents(again.frames);
      expect(acked.filter((m) => !seen.includes(m))).toEqual([]);
      expect(seen.filter((m, i) => seen.indexOf(m) !== i)).toEqual([]);
      expect(again.recovered).toEqual([]);
    });
  }
});

describe("R1: an unsubscribe the server refused", () => {
  it("websocket: is not taken as done; subscribing again with since replays what came in between", async () => {
    // session:* is announced (presence): subscribing and unsubscribing each cost a publish.
    const app = await serve({ WS_PUBLISHES_PER_SECOND: "2" });
    const client = open(app.url);
    const topic = "session:edges-r1" as const;
    const first = recorder<TimerFrame<typeof topic>>();
    const sub = client.subscribe(topic, first.handlers);
    await first.subscribedAtLeast(1); // publish 1 of this second
    await client.publish("chat", { content: "x" }); // publish 2
    const since = sub.lastSeq;
    expect(since).toBeDefined();
    sub.unsubscribe(); // publish 3: refused, rate_limited; the server keeps the subscription
    // Events of the session while the application is unsubscribed.
    const timer = await call(app.url, "POST", "/timer", { sessionId: "edges-r1", maxTime: 100 });
    await call(app.url, "PUT", `/timer/${timer.id}/pause`);
    const again = recorder<TimerFrame<typeof topic>>(since);
    client.subscribe(topic, again.handlers);
    await again.subscribedAtLeast(1);
    await call(app.url, "PUT", `/timer/${timer.id}/resume`);
    await again.until((f) => f.some((x) => x.type === "TIMER_RESUME"), "TIMER_RESUME", 5000);
    const durable = again.frames.map((f) => f.type).filter((t) => t !== "TIMER_UPDATE");
    expect(durable.slice(0, 3)).toEqual(["TIMER_CREATE", "TIMER_PAUSE", "TIMER_RESUME"]);
    expect(again.recovered).toEqual([]);
    expect(again.errors).toEqual([]);
  });
});
