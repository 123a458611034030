/**
 * A JSON array response rendered and written a slice per event-loop turn: a list of 20 000
 * timers (`TIMERS_MAX`) took 100–125 ms of one turn to render and serialize, during which every
 * other client and the ticker waited; five requests at once held the loop for a third of a
 * second. The bytes are those of `JSON.stringify` of the whole array (chunked on the wire).
 * @module
 */
import { jsonResponse } from "./errors.ts";

/** Items rendered per turn. */
const SLICE = 500;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `items` rendered by `render`, as a JSON array; at once when it is short. */
export function jsonArrayResponse<T>(items: readonly T[], render: (item: T) => unknown, slice = SLICE): Response {
  if (items.length <= slice) return jsonResponse(items.map(render));
  const encoder = new TextEncoder();
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next > 0) await nextTurn();
      const end = Math.min(items.length, next + slice);
      let text = next === 0 ? "[" : ",";
      for (let i = next; i < end; i++) text += (i > next ? "," : "") + JSON.stringify(render(items[i]!) ?? null);
      next = end;
      controller.enqueue(encoder.encode(next < items.length ? text : `${text}]`));
      if (next >= items.length) controller.close();
    },
  });
  return new Response(body, { headers: { "Content-Type": "application/json" } });
}
