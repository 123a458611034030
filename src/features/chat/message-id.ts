/**
 * Chat message ids in exactly the seed's form, `YYYYMMDDhhmmss.ffffff`: the UTC instant of the
 * post to the microsecond (`20240101120000.123456`), so that a seed client that parses it keeps
 * working. Unique and increasing: an id is the next free microsecond, `max(now, last + 1 µs)`.
 *
 * "Last" is the newest id this process issued, raised at start from the newest message in the
 * chat log (so a restart, even with a clock that stepped back, continues after the ids issued
 * before it) and, with several instances (Redis), the newest id any instance issued: a counter in
 * Redis takes the same `max` atomically (`redis-message-ids.ts`), so two instances never issue
 * the same id, even in the same microsecond, and ids increase in the order they were issued
 * whatever the instances' clocks say. A clock that steps back makes ids run ahead of it by one
 * microsecond per message until it catches up.
 * @module
 */

/** The instance-coordinated part: the smallest id ≥ `atLeast` (µs) above every id claimed so far. */
export interface SharedIdCounter {
  claim(atLeast: number): Promise<number>;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");
const ID_RE = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\.(\d{6})/;

/** `YYYYMMDDhhmmss.ffffff` of an instant in microseconds since the epoch (UTC). */
export function formatMessageId(micros: number): string {
  const d = new Date(Math.floor(micros / 1000));
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${stamp}.${pad(micros % 1_000_000, 6)}`;
}

/** The instant (µs) an id of that form names; `undefined` for any other string. */
export function parseMessageId(id: string): number | undefined {
  const m = ID_RE.exec(id);
  if (!m) return undefined;
  const [year, month, day, hours, minutes, seconds, micros] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hours, minutes, seconds);
  return Number.isNaN(ms) ? undefined : ms * 1000 + micros;
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
 * The floor for ids after a restart, from the newest message in the chat log: its id (ids may
 * run slightly ahead of the clock), capped at a second after it was stored (a client-chosen
 * `/notify` id far in the future must not drag every later id along), and at least its instant.
 */
export function floorFromNewest(newest: { ts: number; body: Record<string, unknown> } | undefined): number {
  if (!newest) return 0;
  const stored = Math.floor(newest.ts) * 1000 + 999;
  const id = typeof newest.body.id === "string" ? parseMessageId(newest.body.id) : undefined;
  return Math.max(stored, Math.min(id ?? 0, stored + 1_000_000));
}
