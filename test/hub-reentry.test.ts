/**
 * A delivery that leads, synchronously, to another event: an SSE stream closed while its
 * transport writes (overflow) announces a presence leave, appended to the in-process log, which
 * hands the entry back inside `append`. The entry being delivered must still reach every
 * transport it was counted for, and the nested one must come after it (log order), or a client
 * resuming from the newest seq it got skips the older one.
 */
import { describe, expect, it } from "bun:test";
import { Hub } from "../src/core/hub.ts";
import { noopHubMetrics } from "../src/core/hub-metrics.ts";
import { MemoryTopicLog } from "../src/core/memory-topic-log.ts";
import { compareSeq } from "../src/core/seq.ts";
import type { Transport } from "../src/core/transport.ts";
import { VirtualClock } from "../src/core/virtual-clock.ts";

/** Records what it is handed; `onDeliver` runs inside `deliver`, as a transport's side effects do. */
function transport(onDeliver: (topic: string) => void = () => {}, topics = ["chat", "presence", "cron"]) {
  const got: { topic: string; seq: string }[] = [];
  const t: Transport = {
    receivers: (topic) => (topics.includes(topic) ? 1 : 0),
    deliver(topic, _frame, seq) {
      got.push({ topic, seq });
      onDeliver(topic);
      return 1;
    },
    reset: () => 0,
  };
  return { t, got };
}

function setup() {
  const clock = new VirtualClock(1_800_000_000_000);
  const log = new MemoryTopicLog({ historySize: 100, clock });
  const hub = new Hub({ log, clock, durableRoots: ["chat", "presence"] });
  return { clock, hub };
}

describe("hub: a delivery that appends or emits", () => {
  it("hands the entry to every transport, then the entry appended meanwhile, in seq order", async () => {
    const { hub } = setup();
    let once = false;
    const first = transport((topic) => {
      if (topic !== "chat" || once) return;
      once = true;
      void hub.append("presence", { event: "leave", subject: "session:x" });
    });
    const second = transport();
    hub.addTransport(first.t);
    hub.addTransport(second.t);
    await hub.append("chat", { content: "hello" });
    expect(once).toBe(true);
    for (const { got } of [first, second]) {
      expect(got.map((g) => g.topic)).toEqual(["chat", "presence"]);
      expect(compareSeq(got[0]!.seq, got[1]!.seq)).toBeLessThan(0);
    }
    expect(hub.lastDelivered("presence")).toBe(second.got[1]!.seq);
  });

  it("an ephemeral event emitted during a delivery does not cut that delivery short", async () => {
    const { clock, hub } = setup();
    let once = false;
    const first = transport((topic) => {
      if (topic !== "chat" || once) return;
      once = true;
      hub.emit(["cron"], { tick: 1 }, { deadline: clock.now() + 1000, tickAt: clock.now() });
    });
    const second = transport(undefined, ["chat"]); // nobody there on cron
    hub.addTransport(first.t);
    hub.addTransport(second.t);
    await hub.append("chat", { content: "hello" });
    expect(first.got.map((g) => g.topic)).toEqual(["chat", "cron"]);
    expect(second.got.map((g) => g.topic)).toEqual(["chat"]);
  });

  it("a delivery that throws is reported and the entries waiting behind it are still delivered", async () => {
    const clock = new VirtualClock(1_800_000_000_000);
    const log = new MemoryTopicLog({ historySize: 100, clock });
    const errors: string[] = [];
    let thrown = false;
    const metrics = {
      ...noopHubMetrics,
      // Runs last in a delivery: the first one throws after the presence entry was queued behind it.
      fanoutLatency: () => {
        if (thrown) return;
        thrown = true;
        throw new Error("metrics failed");
      },
    };
    const hub = new Hub({ log, clock, metrics, onError: (_e, context) => errors.push(context) });
    let once = false;
    const { t, got } = transport((topic) => {
      if (topic !== "chat" || once) return;
      once = true;
      void hub.append("presence", { event: "leave" });
    });
    hub.addTransport(t);
    await hub.append("chat", { content: "hello" });
    await hub.append("chat", { content: "again" });
    expect(got.map((g) => g.topic)).toEqual(["chat", "presence", "chat"]);
    expect(errors).toEqual(["delivery"]);
  });
});
