import { describe, expect, it } from "bun:test";
import { RingBuffer } from "./ring-buffer.ts";

describe("RingBuffer", () => {
  it("evicts the oldest item when full under drop-oldest", () => {
    const rb = new RingBuffer<number>({ capacity: 3, overflow: "drop-oldest" });
    for (let i = 1; i <= 5; i++) expect(rb.push(i)).toBe(true);
    expect([...rb]).toEqual([3, 4, 5]);
    expect(rb.evicted).toBe(2);
    expect(rb.size).toBe(3);
  });

  it("refuses a push when full under reject and keeps its contents", () => {
    const rb = new RingBuffer<number>({ capacity: 2, overflow: "reject" });
    expect(rb.push(1)).toBe(true);
    expect(rb.push(2)).toBe(true);
    expect(rb.push(3)).toBe(false);
    expect([...rb]).toEqual([1, 2]);
    expect(rb.shift()).toBe(1);
    expect(rb.push(3)).toBe(true);
    expect([...rb]).toEqual([2, 3]);
  });

  it("shifts in FIFO order across wrap-around and is empty after", () => {
    const rb = new RingBuffer<number>({ capacity: 4, overflow: "reject" });
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      rb.push(i);
      if (i % 2 === 1) out.push(rb.shift()!, rb.shift()!);
    }
    expect(out).toEqual([...Array(20).keys()]);
    expect(rb.shift()).toBeUndefined();
    expect(rb.size).toBe(0);
  });

  it("iterates from an index, reads at positions and peeks the newest", () => {
    const rb = new RingBuffer<string>({ capacity: 3, overflow: "drop-oldest" });
    for (const s of ["a", "b", "c", "d"]) rb.push(s);
    expect([...rb.from(1)]).toEqual(["c", "d"]);
    expect(rb.at(0)).toBe("b");
    expect(rb.at(3)).toBeUndefined();
    expect(rb.peekLast()).toBe("d");
    rb.clear();
    expect([...rb]).toEqual([]);
  });

  it("rejects a capacity that is not a positive integer", () => {
    expect(() => new RingBuffer({ capacity: 0, overflow: "reject" })).toThrow(RangeError);
    expect(() => new RingBuffer({ capacity: 1.5, overflow: "reject" })).toThrow(RangeError);
  });
});
