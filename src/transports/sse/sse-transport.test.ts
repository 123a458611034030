import { describe, expect, it } from "bun:test";
import type { HubMetrics } from "../../core/hub-metrics.ts";
import { SseConnection } from "./connection.ts";
import { type SseSink, SseTransport } from "./sse-transport.ts";

/** Resolves after the transport's end-of-turn flush (an immediate queued before this one). */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recordingSink() {
  const chunks: { text: string; ephemeral: boolean; family: string; bytes: Uint8Array }[] = [];
  let overflows = 0;
  const sink: SseSink = {
    send: (bytes, ephemeral, family) => void chunks.push({ text: new TextDecoder().decode(bytes), ephemeral, family, bytes }),
    overflow: () => void overflows++,
  };
  return { sink, chunks, overflows: () => overflows };
}

describe("SseTransport", () => {
  it("encodes a frame as one SSE event, once, and hands the same bytes to every stream of the topic", async () => {
    const t = new SseTransport();
    const a = recordingSink();
    const b = recordingSink();
    t.add("timer:1", a.sink);
    t.add("timer:1", b.sink);
    expect(t.receivers("timer:1")).toBe(2);
    expect(t.deliver("timer:1", '{"topic":"timer:1"}', "5-1", false)).toBe(2);
    await endOfTurn();
    expect(a.chunks.map((c) => [c.text, c.ephemeral, c.family])).toEqual([['id: 5-1\ndata: {"topic":"timer:1"}\n\n', false, "timer"]]);
    expect(b.chunks[0]!.bytes).toBe(a.chunks[0]!.bytes);
  });

  it("delivers nothing to a removed stream and forgets empty topics", () => {
    const t = new SseTransport();
    const a = recordingSink();
    t.add("chat", a.sink);
    t.remove("chat", a.sink);
    expect(t.receivers("chat")).toBe(0);
    expect(t.subscriptions).toBe(0);
    expect(t.deliver("chat", "{}", "1-1", false)).toBe(0);
    expect(a.chunks).toEqual([]);
  });

  it("keeps delivering to the other streams when one throws, and reports it", () => {
    const errors: string[] = [];
    const t = new SseTransport((_e, topic) => errors.push(topic));
    const b = recordingSink();
    t.add("chat", {
      send: () => {
        throw new Error("broken");
      },
      overflow() {},
    });
    t.add("chat", b.sink);
    t.deliver("chat", "{}", "1-1", false);
    t.flush();
    expect(errors).toEqual(["chat"]);
    expect(b.chunks).toHaveLength(1);
  });

  it("ends with overflow every stream of an affected topic on reset", () => {
    const t = new SseTransport();
    const timer = recordingSink();
    const chat = recordingSink();
    t.add("timer:7", timer.sink);
    t.add("chat", chat.sink);
    expect(t.reset((topic) => topic.startsWith("timer"))).toBe(1);
    expect([timer.overflows(), chat.overflows()]).toEqual([1, 0]);
  });
});

/** A real SseConnection over a direct-stream controller that records each `write`. */
function recordedConnection(transport: SseTransport) {
  const writes: string[] = [];
  const metrics: HubMetrics = { published() {}, delivered() {}, fanoutLatency() {}, dropped() {} };
  const conn = new SseConnection(
    metrics,
    1 << 20,
    () => {},
    () => transport.flush(),
  );
  const writer = {
    write: (data: string | Uint8Array) => (writes.push(typeof data === "string" ? data : new TextDecoder().decode(data)), data.length),
    flush() {},
    close() {},
  };
  conn.bind(writer as unknown as ReadableStreamDirectController);
  return { conn, writes };
}

describe("SseTransport coalescing", () => {
  it("writes the events of one turn to each stream in one write, in order", async () => {
    const t = new SseTransport();
    const a = recordedConnection(t);
    const b = recordedConnection(t);
    t.add("chat", a.conn);
    t.add("chat", b.conn);
    for (let i = 1; i <= 3; i++) t.deliver("chat", `{"n":${i}}`, `${i}-0`, false);
    expect(a.writes).toEqual([]);
    await endOfTurn();
    const expected = 'id: 1-0\ndata: {"n":1}\n\nid: 2-0\ndata: {"n":2}\n\nid: 3-0\ndata: {"n":3}\n\n';
    expect({ a: a.writes, b: b.writes }).toEqual({ a: [expected], b: [expected] });
  });

  it("keeps the order of events across topics for a stream on both", async () => {
    const t = new SseTransport();
    const s = recordedConnection(t);
    t.add("chat", s.conn);
    t.add("timer:1", s.conn);
    t.deliver("chat", "{}", "1-0", false);
    t.deliver("chat", "{}", "2-0", false);
    t.deliver("timer:1", "{}", "2-0.1", true);
    t.deliver("chat", "{}", "3-0", false);
    await endOfTurn();
    expect(s.writes.join("").match(/id: \S+/g)).toEqual(["id: 1-0", "id: 2-0", "id: 2-0.1", "id: 3-0"]);
    expect(s.writes).toHaveLength(3);
  });

  it("writes held events before a control event, and not to a stream that goes live after them", async () => {
    const t = new SseTransport();
    const live = recordedConnection(t);
    const late = recordedConnection(t);
    t.add("chat", live.conn);
    t.deliver("chat", "{}", "1-0", false);
    // A stream switching from replay to live got 1-0 from its replay: it must not get it again.
    t.add("chat", late.conn);
    live.conn.writeText(": ping\n\n");
    t.deliver("chat", "{}", "2-0", false);
    await endOfTurn();
    expect({ live: live.writes, late: late.writes }).toEqual({
      live: ["id: 1-0\ndata: {}\n\n", ": ping\n\n", "id: 2-0\ndata: {}\n\n"],
      late: ["id: 2-0\ndata: {}\n\n"],
    });
  });
});
