/**
 * Topic offsets. A `seq` is `"<ms>-<n>"`, the form of Redis Stream ids, in both storage modes, so
 * a client can hand back any seq it saw (durable or ephemeral) as `since`.
 * @module
 */

const SEQ_RE = /^(\d{1,16})-(\d{1,16})$/;

/** A parsed offset: milliseconds and the counter within that millisecond. */
export interface SeqParts {
  ms: number;
  n: number;
}

/** Parses `"<ms>-<n>"`; also accepts a bare `"<ms>"` (Redis does too) as `<ms>-0`. */
export function parseSeq(seq: string): SeqParts | undefined {
  const m = SEQ_RE.exec(seq);
  if (m) return { ms: Number(m[1]), n: Number(m[2]) };
  if (/^\d{1,16}$/.test(seq)) return { ms: Number(seq), n: 0 };
  return undefined;
}

export function isSeq(value: unknown): value is string {
  return typeof value === "string" && parseSeq(value) !== undefined;
}

export function formatSeq(ms: number, n: number): string {
  return `${ms}-${n}`;
}

/** Negative if `a` is before `b`, 0 if equal, positive if after. Both must be valid seqs. */
export function compareSeq(a: string, b: string): number {
  const pa = parseSeq(a);
  const pb = parseSeq(b);
  if (!pa || !pb) throw new TypeError(`not a seq: ${pa ? b : a}`);
  return pa.ms - pb.ms || pa.n - pb.n;
}

/** The seq of an ephemeral event emitted at tick `tickMs`: it orders among log ids. */
export function ephemeralSeq(tickMs: number): string {
  return `${Math.floor(tickMs)}-0`;
}

/**
 * Issues strictly increasing seqs from a clock: the current millisecond, or the last one with the
 * counter bumped if the clock has not moved or went back. The counter starts at 1, never 0:
 * `<ms>-0` belongs to the ephemeral event of a tick at that millisecond, and a durable entry
 * appended in the same millisecond must sort after it, not collide with it (a client resuming
 * from the tick's seq would otherwise skip the entry). The Redis log follows the same rule.
 */
export class SeqGenerator {
  #lastMs = 0;
  #lastN = -1;

  constructor(last?: string) {
    const p = last ? parseSeq(last) : undefined;
    if (p) {
      this.#lastMs = p.ms;
      this.#lastN = p.n;
    }
  }

  next(nowMs: number): string {
    const ms = Math.floor(nowMs);
    if (ms > this.#lastMs) {
      this.#lastMs = ms;
      this.#lastN = 1;
    } else {
      this.#lastN++;
    }
    return formatSeq(this.#lastMs, this.#lastN);
  }
}
