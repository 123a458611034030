/**
 * Frame serialization (src/core/frame.ts): tickwire serializes a body once and splices the
 * `topic`/`seq`/`ts` header in front by string concatenation, so one event published on several
 * topics (a timer event on `timers`, `timer:<id>`, `session:<id>`) costs one `JSON.stringify`.
 * Baseline: `JSON.stringify` of the whole frame object, once per topic.
 *
 *   bun bench/micro/frame.bench.ts [--json]
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import { frameFromBodyJson, sseEvent } from "../../src/core/frame.ts";
import { runMicro } from "../support/micro.ts";

const chat = {
  type: "message",
  id: "20261123111111.000001-abc",
  content: "hello there, this is a chat message of ordinary length",
  user: "bench",
  timestamp: "2026-11-23T11:11:11.000Z",
};
const timer = {
  type: "TIMER_UPDATE",
  payload: {
    id: 42,
    sessionId: "session-1",
    currentTime: 17,
    maxTime: 600,
    isPaused: false,
    status: "running",
    createdAt: "2026-11-23T11:00:00.000Z",
    updatedAt: "2026-11-23T11:00:17.000Z",
  },
};
const seq = "1763896271000-3";
const ts = 1763896271000;

summary(() => {
  group("one chat frame", () => {
    bench("baseline: JSON.stringify({topic, seq, ts, ...body})", () => {
      do_not_optimize(JSON.stringify({ topic: "chat", seq, ts, ...chat }));
    }).baseline(true);
    bench("frameFromBodyJson(JSON.stringify(body))", () => {
      do_not_optimize(frameFromBodyJson("chat", seq, ts, JSON.stringify(chat)));
    });
  });
});

summary(() => {
  group("one timer event on 3 topics (timers, timer:42, session:session-1)", () => {
    const topics = ["timers", "timer:42", "session:session-1"];
    bench("baseline: JSON.stringify per topic", () => {
      for (const topic of topics) do_not_optimize(JSON.stringify({ topic, seq, ts, ...timer }));
    }).baseline(true);
    bench("stringify body once + frameFromBodyJson per topic", () => {
      const json = JSON.stringify(timer);
      for (const topic of topics) do_not_optimize(frameFromBodyJson(topic, seq, ts, json));
    });
  });
});

summary(() => {
  group("SSE event bytes for one chat frame", () => {
    const utf8 = new TextEncoder();
    const frame = frameFromBodyJson("chat", seq, ts, JSON.stringify(chat));
    bench("baseline: TextEncoder.encode(frame)", () => {
      do_not_optimize(utf8.encode(frame));
    }).baseline(true);
    bench("TextEncoder.encode(sseEvent(seq, frame))", () => {
      do_not_optimize(utf8.encode(sseEvent(seq, frame)));
    });
  });
});

await runMicro("frame.bench");
