/**
 * RingBuffer (src/core/ring-buffer.ts) against a plain array used as a queue, the obvious
 * alternative it replaces: `push`/`shift` on a queue that stays short, and a history at capacity
 * where every push evicts the oldest entry (Array: push + shift, O(n) once it is long).
 *
 *   bun bench/micro/ring-buffer.bench.ts [--json]
 */
import { bench, do_not_optimize, group, summary } from "mitata";
import { RingBuffer } from "../../src/core/ring-buffer.ts";
import { runMicro } from "../support/micro.ts";

summary(() => {
  group("queue: push one, shift one (size stays ~16)", () => {
    const arr: number[] = Array.from({ length: 16 }, (_, i) => i);
    bench("baseline: Array push + shift", () => {
      arr.push(1);
      do_not_optimize(arr.shift());
    }).baseline(true);
    const ring = new RingBuffer<number>({ capacity: 1024, overflow: "reject" });
    for (let i = 0; i < 16; i++) ring.push(i);
    bench("RingBuffer push + shift", () => {
      ring.push(1);
      do_not_optimize(ring.shift());
    });
  });
});

summary(() => {
  group("history at capacity 1000: each push evicts the oldest", () => {
    const arr: number[] = Array.from({ length: 1000 }, (_, i) => i);
    bench("baseline: Array push + shift", () => {
      arr.push(1);
      do_not_optimize(arr.shift());
    }).baseline(true);
    const ring = new RingBuffer<number>({ capacity: 1000, overflow: "drop-oldest" });
    for (let i = 0; i < 1000; i++) ring.push(i);
    bench("RingBuffer push (drop-oldest)", () => {
      do_not_optimize(ring.push(1));
    });
  });
});

await runMicro("ring-buffer.bench");
