/**
 * A presence leave comes from a connection that closes while a transport writes a batch: an SSE
 * stream that overflows in the end-of-turn write, a WebSocket closed 4008 in the write window's
 * flush (`WRITE_DELAY_MS`). The embedded log delivers an entry inside `append`, so a leave
 * appended there went, on a stream resumed over several topics whose presence topic was still
 * catching up, straight to the socket ahead of the older chat frames the batch still held (and
 * on SSE once more from the batch). A client resuming from the leave's seq then skipped them.
 * Each stream's seqs must increase, each entry once.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect } from "node:net";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { stalledWebSocket } from "./support/raw-ws.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

type Seen = { topic?: string; seq?: string };
const connections = async (app: Tickwire) => ((await (await fetch(`${app.url}/health`)).json()) as { connections: { sse: number; ws: number } }).connections;

/** Pairs of consecutive frames whose seqs do not increase. */
function regressions(frames: Seen[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < frames.length; i++) {
    const [a, b] = [frames[i - 1]!, frames[i]!];
    if (compareSeq(b.seq!, a.seq!) <= 0) out.push(`${a.topic}@${a.seq} then ${b.topic}@${b.seq}`);
  }
  return out;
}

describe("presence leave during an SSE batch write", () => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ HISTORY_SIZE: "100000" });
  });
  afterAll(() => app.stop());

  for (const alsoLive of [false, true]) {
    it(`a stream resumed on presence and chat gets increasing ids, the leave once${alsoLive ? " (another stream live on presence)" : ""}`, async () => {
      // The stalled reader on chat and an announced topic: it overflows, and its leave is announced.
      const sock = connect(app.port, "127.0.0.1");
      await new Promise((resolve) => sock.once("connect", resolve));
      sock.write("GET /events?topics=chat,session:abc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await new Promise((resolve) => sock.once("data", resolve));
      sock.pause();
      const live = alsoLive ? await sseClient(`${app.url}/events?topics=presence:session:abc`) : undefined;
      const streams = alsoLive ? 3 : 2;
      await until(async () => (await connections(app)).sse === streams - 1);
      const first = await app.ctx.hub.append("chat", { type: "message", id: -1, content: "init" });
      const s = await sseClient(`${app.url}/events?topics=presence:session:abc,chat`, { "Last-Event-ID": first.seq });
      await until(async () => (await connections(app)).sse === streams);
      const c0 = await app.ctx.hub.append("chat", { type: "message", id: 0, content: "go live" });
      await s.next((e) => e.id === c0.seq);

      const pad = "z".repeat(4000);
      for (let batch = 0, id = 1; (await connections(app)).sse === streams; batch++) {
        expect(batch).toBeLessThan(2000);
        // Fewer than 64 in a turn: the transport writes them at the end of the turn.
        let last = "";
        for (let i = 0; i < 16; i++) last = (await app.ctx.hub.append("chat", { type: "message", id: id++, content: pad })).seq;
        await s.next((e) => e.id === last);
      }
      await until(() => s.events.some((e) => e.json?.topic === "presence:session:abc" && e.json?.event === "leave"), { message: "the leave" });
      const tail = await app.ctx.hub.append("chat", { type: "message", id: "tail", content: "tail" });
      await s.next((e) => e.id === tail.seq);
      sock.destroy();
      s.close();
      live?.close();
      const seen = s.events.filter((e) => e.id !== undefined).map((e) => ({ topic: e.json?.topic as string, seq: e.id }));
      expect(regressions(seen)).toEqual([]);
      expect(seen.filter((e) => e.topic === "presence:session:abc").length).toBe(1);
    }, 60_000);
  }
});

describe("presence leave during a WRITE_DELAY_MS flush", () => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ WS_BACKPRESSURE_LIMIT: "65536", HISTORY_SIZE: "100000", WRITE_DELAY_MS: "5" });
  });
  afterAll(() => app.stop());

  it("a socket resumed on presence and chat gets increasing seqs across its topics", async () => {
    const x = await stalledWebSocket(app.port, "/ws?topics=chat,session:abc");
    await until(async () => (await connections(app)).ws === 1);
    const first = await app.ctx.hub.append("chat", { type: "message", id: -1, content: "init" });
    const s = wsClient(wsUrl(app, `/ws?topics=presence:session:abc,chat&since=${first.seq}`));
    await s.opened;
    await until(async () => (await connections(app)).ws === 2);
    const c0 = await app.ctx.hub.append("chat", { type: "message", id: 0, content: "go live" });
    await s.next((f) => (f as Seen)?.seq === c0.seq);

    const pad = "z".repeat(4000);
    const frames = () => s.frames as Seen[];
    for (let batch = 0, id = 1; (await connections(app)).ws === 2; batch++) {
      expect(batch).toBeLessThan(2000);
      let last = "";
      for (let i = 0; i < 40; i++) last = (await app.ctx.hub.append("chat", { type: "message", id: id++, content: pad })).seq;
      await until(() => frames().some((f) => f?.seq === last), { message: `batch ${batch}` });
    }
    await until(() => frames().some((f) => f?.topic === "presence:session:abc"), { message: "the leave" });
    const tail = await app.ctx.hub.append("chat", { type: "message", id: "tail", content: "tail" });
    await s.next((f) => (f as Seen)?.seq === tail.seq);
    x.destroy();
    s.close();
    expect(regressions(frames().filter((f) => typeof f?.seq === "string"))).toEqual([]);
  }, 60_000);
});
