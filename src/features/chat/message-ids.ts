/**
 * Issuing chat ids (`message-id.ts` form), unique and increasing: an id is the next free
 * microsecond, `max(now, last + 1 µs)`. "Last" is the newest id this process issued, raised at
 * start from the newest message in the chat log (a restart, even with a clock that stepped back,
 * continues after the ids issued before it) and, with several instances (Redis), by the newest id
 * ANY instance stored: each append claims its id on a counter in the same atomic step
 * (`AppendOptions.claim`, the Redis append script), and one that lost (another instance got there
 * first, or its clock is behind) is raised above the winner and tried again (`chat-service.ts`).
 * So no two instances store the same id, even in the same microsecond, and ids increase in log
 * order whatever the instances' clocks say, at one Redis round trip per post when nobody
 * conflicts. Behind a clock that stepped back, ids run ahead of it by a microsecond per message
 * until it catches up.
 * @module
 */
import { formatMessageId, parseMessageId } from "./message-id.ts";

/** The name of the counter every instance's chat appends claim their ids on. */
export const CHAT_ID_COUNTER = "chat:last-id";

export class MessageIds {
  #last = 0;

  /** Every later id is after `micros` (the newest id known from before this process). */
  raise(micros: number): void {
    if (micros > this.#last) this.#last = micros;
  }

  /** The next id at `nowMs`, and the instant (µs) it names. */
  next(nowMs: number): { id: string; micros: number } {
    const micros = Math.max(Math.floor(nowMs * 1000), this.#last + 1);
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
