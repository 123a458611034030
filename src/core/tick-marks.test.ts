/**
 * `TickMarks`: a resume from a tick's seq starts at what was delivered when that tick went out;
 * any other seq, an unmarked tick and `0-0` are left as they are; marks are bounded; with a shared
 * store the oldest of the shared and the local mark wins, and a failing store falls back to the
 * local mark.
 */
import { describe, expect, it } from "bun:test";
import { type SharedTickMarks, type TickMark, TickMarks, tickOf } from "./tick-marks.ts";

function marks(opts: { keep?: number; shared?: SharedTickMarks } = {}) {
  const delivered = new Map<string, string>();
  const m = new TickMarks({ roots: ["chat", "relay"], lastDelivered: (root) => delivered.get(root), ...opts });
  return { m, delivered };
}

describe("TickMarks", () => {
  it("recognises only tick seqs", () => {
    expect([tickOf("1000-0"), tickOf("1000-1"), tickOf("0-0"), tickOf("1000-0.5"), tickOf("x")]).toEqual([1000, undefined, undefined, undefined, undefined]);
  });

  it("resolves a tick's seq to the root's position when the tick was recorded", () => {
    const { m, delivered } = marks();
    delivered.set("chat", "990-3");
    m.record(1000);
    delivered.set("chat", "995-1"); // delivered after the tick, numbered before it
    m.record(2000);
    expect(m.resolve("chat", "1000-0")).toBe("990-3");
    expect(m.resolve("chat", "2000-0")).toBe("995-1");
    expect(m.resolve("relay", "1000-0")).toBe("1000-0"); // nothing delivered on relay yet
    expect(m.resolve("chat", "3000-0")).toBe("3000-0"); // no mark
    expect(m.resolve("chat", "995-1")).toBe("995-1"); // an entry's seq
    expect(m.resolve("cron", "1000-0")).toBe("1000-0"); // not a durable root
  });

  it("never starts after the tick itself (an entry numbered after it but delivered first)", () => {
    const { m, delivered } = marks();
    delivered.set("chat", "1003-1"); // the tick fired 3 ms late, after this entry
    m.record(1000);
    // A client that was not on chat at the tick never got it: the resume must include it.
    expect(m.resolve("chat", "1000-0")).toBe("1000-0");
  });

  it("keeps the newest `keep` marks", () => {
    const { m, delivered } = marks({ keep: 2 });
    delivered.set("chat", "1-1");
    for (const t of [1000, 2000, 3000]) m.record(t);
    expect([m.resolve("chat", "1000-0"), m.resolve("chat", "2000-0"), m.resolve("chat", "3000-0")]).toEqual(["1000-0", "1-1", "1-1"]);
  });

  it("takes the older of the shared mark and its own; its own when the store fails", async () => {
    const store = new Map<number, TickMark>();
    let failing = false;
    const shared: SharedTickMarks = {
      put: async (t, mark) => void store.set(t, mark),
      get: async (t) => {
        if (failing) throw new Error("down");
        return store.get(t);
      },
    };
    const { m, delivered } = marks({ shared });
    delivered.set("chat", "990-3");
    m.record(1000);
    store.set(1000, { chat: "980-1" }); // another instance had delivered less
    expect(await m.resolve("chat", "1000-0")).toBe("980-1");
    store.set(5000, { chat: "4000-1" }); // a tick only another instance marked
    expect(await m.resolve("chat", "5000-0")).toBe("4000-1");
    failing = true;
    expect(await m.resolve("chat", "1000-0")).toBe("990-3");
    expect(await m.resolve("chat", "5000-0")).toBe("5000-0");
  });
});
