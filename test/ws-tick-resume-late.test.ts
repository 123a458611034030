/**
 * A chat entry numbered AFTER a tick's seq (`<T>-0`) but delivered BEFORE the tick went out. A
 * connection that was only on `cron` at T later subscribes to `chat` with `since: "<T>-0"` (the
 * last seq it saw, SPEC §3: "of either kind"). The entry's seq is after `since`, so it is
 * replayed: a resume from a tick's seq starts at the older of the tick's mark and the tick's seq
 * (`core/tick-marks.ts`). With the mark alone (7040cbe) it was skipped silently, recovered:true
 * (found in review).
 *
 * How "numbered after, delivered before" is produced:
 * - embedded: the event loop is held across a tick boundary and an entry appended synchronously
 *   right after it (SQLite log: seq from the clock, delivered synchronously), before the ticker's
 *   timer can run: exactly what a tick timer firing a few ms late does under load;
 * - mysql+redis: the instance's clock 1.5 s behind Redis's (the mirror of ws-tick-resume's case).
 */
import { afterAll, describe, expect, it } from "bun:test";
import { type Clock, systemClock } from "../src/core/clock.ts";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const behind: Clock = { ...systemClock, now: () => systemClock.now() - 1500 };
const TICK = 100;

const post = async (app: Tickwire, content: string) => {
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { seq?: string; id: number };
};

describe.each(MODES)("resume from a tick's seq, an entry numbered after the tick delivered before it ($name)", (mode) => {
  const apps: Tickwire[] = [];
  afterAll(() => Promise.all(apps.map((a) => a.stop())));

  it("in-band subscribe to chat with since=<tick seq> replays the entry numbered after the tick", async () => {
    const embedded = mode.name === "embedded";
    const app = await startServer({ ...mode.env(uniquePrefix("ws-tick-late")), TICK_MS: String(TICK) }, embedded ? undefined : behind);
    apps.push(app);
    const before = await post(app, "before"); // the chat log's epoch begins before the tick below
    // The watcher sees delivery order on both topics; the cron-only client only ticks.
    const watcher = wsClient(wsUrl(app, "/ws?topics=chat,cron"));
    const cronOnly = wsClient(wsUrl(app, "/ws?topics=cron"));
    await Promise.all([watcher.opened, cronOnly.opened]);
    await watcher.next((f) => f.topic === "cron", 5000);
    await cronOnly.next((f) => f.topic === "cron", 5000);

    let entrySeq: string;
    if (embedded) {
      // Hold the event loop across the next boundary, then append: the tick's timer runs after it.
      // On the server's clock (the ticker's and the log's), not Date.now(): see clock.ts.
      const now = () => systemClock.now();
      let boundary = (Math.floor(now() / TICK) + 1) * TICK;
      if (boundary - now() < 15) boundary += TICK; // not inside the ticker's wake-early spin
      while (now() < boundary + 2) {} // busy: no timer may run
      const entry = await app.ctx.hub.append("chat", {
        type: "message",
        id: 999_001,
        content: "numbered after the tick",
        user: "x",
        timestamp: new Date().toISOString(),
      });
      entrySeq = entry.seq;
    } else {
      // Redis numbers by real time, the instance ticks 1.5 s behind: wait for ticks past "before".
      await watcher.next((f) => f.topic === "cron" && compareSeq(f.seq, before.seq!) > 0, 5000);
      entrySeq = (await post(app, "numbered after the tick")).seq!;
      expect(entrySeq).toBeDefined();
    }
    // Delivery order on the watcher: the entry, then the first tick after it.
    const got = await watcher.next((f) => f.topic === "chat" && f.seq === entrySeq, 5000);
    const i = watcher.frames.indexOf(got);
    const tick = await watcher.next((f) => f.topic === "cron" && watcher.frames.indexOf(f) > i, 5000);
    expect(compareSeq(entrySeq, tick.seq)).toBeGreaterThan(0); // precondition: numbered after the tick

    // The cron-only client got that tick too; it now subscribes to chat from it.
    await cronOnly.next((f) => f.topic === "cron" && f.seq === tick.seq, 5000);
    cronOnly.send({ op: "subscribe", topic: "chat", since: tick.seq, ref: "s1" });
    await cronOnly.next((f) => f.op === "ack" && f.ref === "s1", 5000);
    await post(app, "later"); // a live entry, so that we await a frame instead of an absence
    const first = await cronOnly.next((f) => (f.topic === "chat" && typeof f.content === "string") || f.op === "recovered", 5000);

    // A new connection resuming chat from the tick's seq.
    const fresh = wsClient(wsUrl(app, `/ws?topics=chat&since=${tick.seq}`));
    await post(app, "later 2");
    const firstFresh = await fresh.next((f) => (f.topic === "chat" && typeof f.content === "string") || f.op === "recovered", 5000);
    for (const c of [watcher, cronOnly, fresh]) c.close();

    expect({ op: first.op, seq: first.seq, content: first.content }).toEqual({ op: undefined, seq: entrySeq, content: "numbered after the tick" });
    expect({ op: firstFresh.op, seq: firstFresh.seq, content: firstFresh.content }).toEqual({
      op: undefined,
      seq: entrySeq,
      content: "numbered after the tick",
    });
  });
});
