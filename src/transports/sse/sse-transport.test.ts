import { describe, expect, it } from "bun:test";
import { type SseSink, SseTransport } from "./sse-transport.ts";

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
  it("encodes a frame as one SSE event, once, and hands the same bytes to every stream of the topic", () => {
    const t = new SseTransport();
    const a = recordingSink();
    const b = recordingSink();
    t.add("timer:1", a.sink);
    t.add("timer:1", b.sink);
    expect(t.receivers("timer:1")).toBe(2);
    expect(t.deliver("timer:1", '{"topic":"timer:1"}', "5-1", false)).toBe(2);
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
