/**
 * `jsonArrayResponse`: the same bytes as `JSON.stringify` of the rendered array, short lists at
 * once, long ones rendered a slice per event-loop turn (other work runs in between).
 */
import { describe, expect, it } from "bun:test";
import { jsonArrayResponse } from "./json-array.ts";

describe("jsonArrayResponse", () => {
  it("writes short and long lists as JSON.stringify would, the long one a slice per turn", async () => {
    const render = (n: number) => ({ id: n, name: `t"${n}` });
    expect(await jsonArrayResponse([1, 2], render, 4).text()).toBe(JSON.stringify([1, 2].map(render)));
    expect(await jsonArrayResponse([], render, 4).text()).toBe("[]");
    const items = Array.from({ length: 2000 }, (_, i) => i);
    let rendered = 0;
    const res = jsonArrayResponse(items, (n) => (rendered++, render(n)), 500);
    expect(res.headers.get("content-type")).toBe("application/json");
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    const first = await reader.read();
    chunks.push(first.value!);
    let renderedWhenOtherWorkRan: number | undefined;
    setImmediate(() => (renderedWhenOtherWorkRan = rendered));
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(Buffer.concat(chunks).toString()).toBe(JSON.stringify(items.map(render)));
    expect(renderedWhenOtherWorkRan).toBeLessThan(items.length);
  });
});
