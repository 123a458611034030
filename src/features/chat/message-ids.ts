/**
 * Issuing chat ids (`message-id.ts` form), unique and increasing: an id is the next free
 * microsecond, `max(now, last + 1 µs)`. "Last" is the newest id this process issued, raised at
 * start from the newest message in the chat log (a restart, even with a clock that stepped back,
 * continues after the ids issued before it) and, with several instances (Redis), the newest id
 * ANY instance issued: a Redis counter takes the same `max` atomically (`redis-message-ids.ts`),
 * so two instances never issue the same id, even in the same microsecond, and ids increase in the
 * order they are issued whatever the instances' clocks say. Behind a clock that stepped back, ids
 * run ahead of it by a microsecond per message until it catches up.
 * @module
 */
import { formatMessageId, parseMessageId } from "./message-id.ts";

/** The instance-coordinated part: the smallest id ≥ `atLeast` (µs) above every id claimed so far. */
export interface SharedIdCounter {
  claim(atLeast: number): Promise<number>;
}

export class MessageIds {
  #last = 0;
  readonly #shared: SharedIdCounter | undefined;

  constructor(shared?: SharedIdCounter) {
    this.#shared = shared;
  }

  /** Every later id is after `micros` (the newest id known from before this process). */
  raise(micros: number): void {
    if (micros > this.#last) this.#last = micros;
  }

  /** The next id at `nowMs`, and the instant (µs) it names. */
  async next(nowMs: number): Promise<{ id: string; micros: number }> {
    let micros = Math.max(Math.floor(nowMs * 1000), this.#last + 1);
    // Claims on one connection are answered in order: this instance's ids still increase in the
    // order its posts were made, and its appends follow them.
    if (this.#shared) micros = await this.#shared.claim(micros);
    this.raise(micros);
    return { id: formatMessageId(micros), micros };
  }
}

/**
 * The floor for ids after a restart, from the newest message in the chat log: its id (ids may run
 * slightly ahead of the clock), capped at a second after it was stored (a client-chosen `/notify`
 * id far in the future must not drag every later id along), and at least its instant.
 */
export function floorFromNewest(newest: { ts: number; body: Record<string, unknown> } | undefined): number {
  if (!newest) return 0;
  const stored = Math.floor(newest.ts) * 1000 + 999;
  const id = typeof newest.body.id === "string" ? parseMessageId(newest.body.id) : undefined;
  return Math.max(stored, Math.min(id ?? 0, stored + 1_000_000));
}
