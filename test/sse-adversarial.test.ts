/**
 * Trying to make `/events` lose what it acknowledged, or hand out an id that lies, in both
 * storage modes: the `id:` of every event is an offset a client may resume from, and a resume
 * from the last id it got brings exactly what followed it on all of its topics, or says
 * `recovered:false` first.
 *
 * - Resumed from a tick's seq (`<tick>-0`, e.g. the id of a `cron`-only stream), a stream sent
 *   later ticks as `<tick>-0.<k>`: a resume from that skipped the tick's mark, so in Redis mode
 *   (entries numbered by Redis's clock, here 1.5 s behind the instance's) the entries numbered
 *   before the tick were never sent, under `recovered:false`; with the clocks in step, the same
 *   resume still answered `recovered:false` (an offset past every stream) for nothing lost.
 * - Resumed from a bare `<ms>` (a seq, as `parseSince` takes it), it sent ticks as `<ms>.<k>`,
 *   which the endpoint refuses with 400 (a browser's EventSource then gives up for good).
 * - An empty `Last-Event-ID` header hid `?lastEventId=`: the stream went live with a gap.
 * - Ids on a stream of chat, a session's timer events and updates, and ticks, written in
 *   coalesced turns: a resume from any of them brings exactly the durable events after it.
 * - A stalled reader: ticks dropped, chat queued, `event: overflow`; then resumes from the last
 *   id got, the first one left by the client mid-replay (any that overflows is resumed alike),
 *   reach every entry after it, once each.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect } from "node:net";
import { type Clock, systemClock } from "../src/core/clock.ts";
import { compareSeq, isSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { type SseEvent, sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

const ahead: Clock = { ...systemClock, now: () => systemClock.now() + 1500 };

const post = async (app: Tickwire, content: string): Promise<string> => {
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { seq: string }).seq;
};

const isTick = (e: SseEvent) => e.json?.topic === "cron";
const isUpdate = (e: SseEvent) => e.json?.type === "TIMER_UPDATE";
const isDurable = (e: SseEvent) => e.event === undefined && e.id !== undefined && !isTick(e) && !isUpdate(e);
const key = (e: SseEvent) => `${e.id} ${e.json.topic} ${e.json.type ?? ""} ${e.json.content ?? e.json.payload?.maxTime ?? ""}`;
const controls = (events: SseEvent[]) => events.filter((e) => e.event !== undefined).map((e) => e.data);

/** The body of a chunked HTTP/1.1 response (`raw` in latin1, headers included). */
function dechunk(raw: string): string {
  let at = raw.indexOf("\r\n\r\n") + 4;
  let body = "";
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    const size = Number.parseInt(raw.slice(at, eol), 16);
    if (!size) return body;
    body += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** The events of an SSE body, as `sseClient` parses them. */
function parseEvents(body: string): SseEvent[] {
  return body
    .split("\n\n")
    .map((block) => {
      const ev: SseEvent = { data: "" };
      for (const line of block.split("\n")) {
        if (line.startsWith("id:")) ev.id = line.slice(3).trim();
        else if (line.startsWith("event:")) ev.event = line.slice(6).trim();
        else if (line.startsWith("data:")) ev.data = line.slice(5).trim();
      }
      try {
        ev.json = JSON.parse(ev.data);
      } catch {}
      return ev;
    })
    .filter((e) => e.data !== "");
}

describe.each(MODES)("SSE adversarial ($name)", (mode) => {
  let app: Tickwire;
  let skewed: Tickwire;
  let database: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  beforeAll(async () => {
    if (mode.name === "mysql+redis") database = await ownDatabase("sseadv");
    app = await startServer(timersEnv(mode, uniquePrefix("sse-adv"), database?.url, { WS_PUBLISHES_PER_SECOND: "100000" }));
    const small = { TICK_MS: "100", WS_BACKPRESSURE_LIMIT: "65536", HISTORY_SIZE: "5000" };
    skewed = await startServer({ ...mode.env(uniquePrefix("sse-adv-skew")), ...small }, ahead);
  });
  afterAll(async () => {
    await app?.stop();
    await skewed?.stop();
    await database?.drop();
  });

  // In step: nothing was missed, and an offset past every stream must not pass for a lost future.
  // Ahead: an entry posted after the tick is numbered before it, and must not be skipped.
  for (const [which, missed] of [
    ["clocks in step, nothing missed", false],
    ["instance 1.5 s ahead of Redis", true],
  ] as const) {
    it(`a tick's id after a resume from a tick's seq resumes what followed it (${which})`, async () => {
      const server = missed ? skewed : app;
      await post(server, "before");
      const cronOnly = await sseClient(`${server.url}/events?topics=cron`);
      const tick = await cronOnly.next(isTick, 5000);
      cronOnly.close();
      expect(tick.id).toMatch(/^\d+-0$/);
      const resumed = await sseClient(`${server.url}/events?topics=chat,cron`, { "Last-Event-ID": tick.id! });
      const later = await resumed.next(isTick, 5000);
      resumed.close();
      const after = missed ? [[await post(server, "after"), "after"]] : [];
      const again = await sseClient(`${server.url}/events?topics=chat,cron`, { "Last-Event-ID": later.id! });
      expect(again.response.status).toBe(200);
      // Past the merged replay (ephemeral events wait for its end), then a live entry.
      await again.next(isTick, 5000);
      const marker = await post(server, "marker");
      // (a resume that skipped `after` sends no marker either: what it sent is compared below)
      await again.next((e) => e.id === marker, 5000).catch(() => {});
      again.close();
      const chat = again.events.filter((e) => e.json?.topic === "chat" && e.event === undefined);
      expect({ controls: controls(again.events), chat: chat.map((e) => [e.id, e.json.content]) }).toEqual({
        controls: [],
        chat: [...after, [marker, "marker"]],
      });
    });
  }

  it("a bare <ms> Last-Event-ID: every id the stream gives is one it takes back", async () => {
    const cronOnly = await sseClient(`${app.url}/events?topics=cron`);
    const tick = await cronOnly.next(isTick, 5000);
    cronOnly.close();
    const bare = tick.id!.slice(0, -2);
    const resumed = await sseClient(`${app.url}/events?topics=chat,cron`, { "Last-Event-ID": bare });
    expect(resumed.response.status).toBe(200);
    const later = await resumed.next(isTick, 5000);
    resumed.close();
    expect(isSeq(later.id)).toBe(true);
    const after = await post(app, "after a bare offset");
    const again = await sseClient(`${app.url}/events?topics=chat,cron`, { "Last-Event-ID": later.id! });
    expect(again.response.status).toBe(200);
    const got = await again.next((e) => e.json?.topic === "chat" && e.event === undefined, 5000);
    again.close();
    expect([got.id, got.json.content]).toEqual([after, "after a bare offset"]);
  });

  it("an empty Last-Event-ID header leaves ?lastEventId= in force; a non-seq one is refused, never taken as none", async () => {
    const from = await post(app, "seen");
    const missed = await post(app, "missed");
    const resumed = await sseClient(`${app.url}/events?lastEventId=${from}`, { "Last-Event-ID": "" });
    const got = await resumed.next((e) => e.json?.topic === "chat", 5000);
    resumed.close();
    expect(got.id).toBe(missed);
    for (const [query, header, field] of [
      ["", "garbage", "Last-Event-ID"],
      ["", "1-2-3", "Last-Event-ID"],
      ["", `${from}.`, "Last-Event-ID"],
      [`?lastEventId=${encodeURIComponent(`${from} `)}`, undefined, "lastEventId"],
      [`?lastEventId=${from}`, "-1", "Last-Event-ID"],
    ] as const) {
      const res = await fetch(`${app.url}/events${query}`, { headers: header === undefined ? {} : { "Last-Event-ID": header } });
      const body = (await res.json()) as any;
      expect({ header, status: res.status, field: body.error?.field }).toEqual({ header, status: 400, field });
    }
  });

  it("chat, a session's timer events and updates, and ticks in coalesced turns: a resume from any id brings exactly the durable events after it", async () => {
    const http = api(app);
    const sid = uniquePrefix("adv-sess");
    await post(app, "opening");
    const topics = `chat,session:${encodeURIComponent(sid)},cron`;
    const stream = await sseClient(`${app.url}/events?topics=${topics}`);
    await stream.next(isTick, 5000);
    const timer = await http.create(sid, 600);
    expect(timer.status).toBe(201);
    const publisher = wsClient(wsUrl(app, "/ws?topics="));
    await publisher.opened;
    const chatSeqs: string[] = [];
    for (let round = 0; round < 6; round++) {
      // Ten publishes at once (delivered together, one write per stream), then a timer change,
      // each after an update reached the stream, so that durable and ephemeral ids interleave.
      for (let i = 0; i < 10; i++) publisher.send({ op: "publish", topic: "chat", data: { content: `r${round}-${i}` }, ref: `r${round}-${i}` });
      const acks = await publisher.collect((round + 1) * 10, (f) => f.op === "ack", 10_000);
      chatSeqs.push(...acks.slice(round * 10).map((a: any) => a.seq as string));
      await stream.collect(stream.events.filter(isUpdate).length + 1, isUpdate, 5000);
      expect((await http.modify(timer.body.id, 600 + round)).status).toBe(200);
      await stream.collect(stream.events.filter(isUpdate).length + 1, isUpdate, 5000);
    }
    publisher.close();
    await stream.collect(60 + 1 + 6, isDurable, 10_000);
    await stream.collect(stream.events.filter(isTick).length + 2, isTick, 5000);
    stream.close();
    const events = stream.events.filter((e) => e.event === undefined);
    const durable = events.filter(isDurable);
    expect(durable.filter((e) => e.json.topic === "chat").map((e) => e.id)).toEqual(chatSeqs);
    expect(events.filter((e) => !isSeq(e.id)).map((e) => e.id)).toEqual([]);
    expect(events.some(isUpdate) && events.some(isTick)).toBe(true);

    // Every id right before and after a durable event, and a spread of the others.
    const picked = new Set<number>([0, events.length - 1]);
    events.forEach((e, i) => {
      if (isDurable(e) && e.json.topic !== "chat") for (const j of [i - 1, i, i + 1]) if (j >= 0 && j < events.length) picked.add(j);
    });
    for (let i = 0; i < events.length; i += Math.max(1, Math.floor(events.length / 30))) picked.add(i);
    const problems: string[] = [];
    const resumeFrom = async (i: number) => {
      const from = events[i]!;
      const expected = events
        .slice(i + 1)
        .filter(isDurable)
        .map(key);
      const resumed = await sseClient(`${app.url}/events?topics=${topics}`, { "Last-Event-ID": from.id! });
      try {
        // No ephemeral event goes out before the merged replay is over: the first one ends it.
        await resumed.next((e) => isTick(e) || isUpdate(e), 5000);
        const got = resumed.events.filter(isDurable).map(key);
        if (JSON.stringify(got) !== JSON.stringify(expected) || controls(resumed.events).length > 0) {
          problems.push(
            `from ${from.id} (${key(from)}, #${i}): expected ${expected.length} [${expected.slice(0, 2)}], got ${got.length} [${got.slice(0, 2)}] ${controls(resumed.events)}`,
          );
        }
      } finally {
        resumed.close();
      }
    };
    const indexes = [...picked].sort((a, b) => a - b);
    for (let at = 0; at < indexes.length; at += 8) await Promise.all(indexes.slice(at, at + 8).map(resumeFrom));
    expect(problems).toEqual([]);
    expect((await http.stop(timer.body.id)).status).toBe(200);
  });

  it("a stalled reader ends with overflow; resumes from its last id, cut off mid-replay, get every entry after it once", async () => {
    const health = async () => ((await (await fetch(`${skewed.url}/health`)).json()) as any).connections.sse as number;
    const before = await health();
    const sock = connect(skewed.port, "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    let raw = "";
    sock.setEncoding("latin1");
    const ended = new Promise<void>((resolve) =>
      sock.on("data", (d: string) => {
        raw += d;
        if (raw.endsWith("\r\n0\r\n\r\n")) resolve();
      }),
    );
    sock.write("GET /events?topics=chat,cron HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await until(() => raw.includes(": connected"), { message: "the stream's first bytes" });
    sock.pause(); // not read again until the server has given up on it
    await until(async () => (await health()) === before + 1, { message: "the stalled stream" });
    const content = "z".repeat(4000);
    const posted: string[] = [];
    for (let i = 0; i < 3000 && (await health()) > before; i++) posted.push(await post(skewed, `${i}:${content}`));
    expect(await health()).toBe(before);
    sock.resume();
    await ended;
    sock.destroy();
    const stalled = parseEvents(dechunk(raw));
    expect(stalled.at(-1)?.event).toBe("overflow");
    const chat = stalled.filter((e) => e.json?.topic === "chat").map((e) => e.id!);
    expect(chat.length).toBeGreaterThan(0);
    expect(chat).toEqual(posted.slice(0, chat.length));
    const last = stalled.findLast((e) => e.id !== undefined)!.id!;
    expect(compareSeq(last, chat.at(-1)!)).toBeGreaterThanOrEqual(0);

    // Missed while away: a replay far past the stream's queue. As a browser would, resume from
    // the last id got, again after each end; the first time leaving after 20 events of it.
    for (let i = 0; i < 300; i++) posted.push(await post(skewed, `away ${i}:${content}`));
    const newest = await post(skewed, "newest");
    posted.push(newest);
    const got: SseEvent[] = [];
    let since = last;
    for (let attempt = 0; attempt < 100; attempt++) {
      const resumed = await sseClient(`${skewed.url}/events?topics=chat,cron`, { "Last-Event-ID": since });
      expect(resumed.response.status).toBe(200);
      const done =
        attempt === 0
          ? resumed.collect(20, (e) => e.json?.topic === "chat", 20_000).then(() => false)
          : resumed.next((e) => e.id === newest, 20_000).then(() => true);
      const reached = await done.catch(() => false);
      resumed.close();
      await resumed.ended;
      got.push(...resumed.events);
      since = resumed.events.findLast((e) => e.id !== undefined)?.id ?? since;
      if (reached) break;
    }
    expect(controls(got).filter((c) => !c.includes('"overflow"'))).toEqual([]);
    const resumedChat = got.filter((e) => e.json?.topic === "chat").map((e) => e.id);
    expect(resumedChat).toEqual(posted.filter((seq) => compareSeq(seq, last) > 0));
    await until(async () => (await health()) === before, { message: "every resumed stream to be gone" });
  });
});
