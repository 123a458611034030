/**
 * The publish hot path (src/core/hub.ts `#deliverEntry` → `#fanout`) with 1, 1000 and 10 000
 * subscribers on fake transports, to check two claims of the hub without sockets in the way:
 * - each frame is serialized once: `JSON.stringify` and `TextEncoder.encode` are counted per
 *   append (1 body stringify, plus the topic name escaped for the frame header; 1 SSE encode
 *   when SSE sinks exist), whatever the subscriber count;
 * - no per-subscriber objects: mitata's heap column (bytes allocated per iteration) stays flat
 *   from 1 to 10 000 subscribers (the WS side is one `publish` call; SSE sinks share one chunk).
 * Baseline: the same append with 1 subscriber.
 *
 *   bun bench/micro/hub-publish.bench.ts [--json]
 */
import { bench, group, summary } from "mitata";
import { systemClock } from "../../src/core/clock.ts";
import { Hub } from "../../src/core/hub.ts";
import { noopHubMetrics } from "../../src/core/hub-metrics.ts";
import { MemoryTopicLog } from "../../src/core/memory-topic-log.ts";
import { silentLogger } from "../../src/log.ts";
import { type SseSink, SseTransport } from "../../src/transports/sse/sse-transport.ts";
import { WsTransport } from "../../src/transports/ws/ws-transport.ts";
import { runMicro } from "../support/micro.ts";
import { printTable } from "../support/report.ts";

function hubWith(n: number) {
  const log = new MemoryTopicLog({ historySize: 1000, clock: systemClock });
  const hub = new Hub({ log, clock: systemClock });
  let bytes = 0;
  const ws = new WsTransport({ replayer: hub, backpressureLimit: 1 << 20, metrics: noopHubMetrics, log: silentLogger });
  ws.bind({ publish: (_t: string, d: string) => (bytes += d.length), subscriberCount: () => n });
  hub.addTransport(ws);
  const sse = new SseTransport();
  hub.addTransport(sse);
  let sent = 0;
  const sink: SseSink = { send: (chunk) => void (sent += chunk.byteLength), overflow() {} };
  // Distinct sink objects, as real connections are; they keep nothing per event.
  for (let i = 0; i < n; i++) sse.add("chat", { send: sink.send, overflow: sink.overflow });
  return { log, hub, stats: () => ({ bytes, sent }) };
}

const body = { type: "message", id: "20261123111111.000001-abc", content: "hello there", user: "bench", timestamp: "2026-11-23T11:11:11.000Z" };

// Count serializations per append.
const counts: unknown[][] = [];
for (const n of [1, 1000, 10_000]) {
  const { log } = hubWith(n);
  const stringify = JSON.stringify;
  const encode = TextEncoder.prototype.encode;
  let s = 0;
  let names = 0;
  let e = 0;
  // Objects are frames or bodies; a string argument is a topic name escaped for the frame header.
  JSON.stringify = ((...args: Parameters<typeof stringify>) => (typeof args[0] === "string" ? names++ : s++, stringify(...args))) as typeof JSON.stringify;
  TextEncoder.prototype.encode = function (this: TextEncoder, input?: string) {
    e++;
    return encode.call(this, input);
  };
  const appends = 100;
  for (let i = 0; i < appends; i++) log.appendSync("chat", body);
  JSON.stringify = stringify;
  TextEncoder.prototype.encode = encode;
  counts.push([n, s / appends, names / appends, e / appends]);
}
printTable(["subscribers (WS count + SSE sinks)", "JSON.stringify(object) per append", "JSON.stringify(topic name)", "TextEncoder.encode per append"], counts);
console.log();

summary(() => {
  group("durable append delivered to N subscribers (fake WS + N SSE sinks)", () => {
    for (const n of [1, 1000, 10_000]) {
      const { log } = hubWith(n);
      const b = bench(`hub: append → frame → publish + ${n} SSE sinks`, () => {
        log.appendSync("chat", body);
      });
      if (n === 1) b.baseline(true);
    }
  });
});

await runMicro("hub-publish.bench");
