/**
 * Topic offsets. A durable entry's `seq` is `"<ms>-<n>"`, the form of Redis Stream ids, in both
 * storage modes. An ephemeral frame on a topic with a durable log carries the position of the
 * newest durable entry delivered, there or on another topic (`ephemeral-stamps.ts`), plus its
 * own counter, `"<ms>-<n>.<k>"`: so the seqs a client receives on a topic strictly increase in
 * delivery order, ephemeral frames included, and resuming from ANY seq it saw replays exactly
 * the durable entries after that position.
 * @module
 */

const SEQ_RE = /^(\d{1,16})-(\d{1,16})(?:\.(\d{1,20}))?$/;

/** A parsed offset: milliseconds, the counter within that millisecond, and an ephemeral frame's counter. */
export interface SeqParts {
  ms: number;
  n: number;
  /** Present on ephemeral frames: after the durable position `<ms>-<n>`, before the next entry. */
  k?: number;
}

/** Parses `"<ms>-<n>"` or `"<ms>-<n>.<k>"`; also accepts a bare `"<ms>"` (Redis does too) as `<ms>-0`. */
export function parseSeq(seq: string): SeqParts | undefined {
  const m = SEQ_RE.exec(seq);
  if (m) return m[3] === undefined ? { ms: Number(m[1]), n: Number(m[2]) } : { ms: Number(m[1]), n: Number(m[2]), k: Number(m[3]) };
  if (/^\d{1,16}$/.test(seq)) return { ms: Number(seq), n: 0 };
  return undefined;
}

/** The durable position of a seq: `"<ms>-<n>"` without an ephemeral frame's `.<k>`. */
export function durablePart(seq: string): string {
  const dot = seq.indexOf(".");
  return dot === -1 ? seq : seq.slice(0, dot);
}

/**
 * Whether `since` lies past both the newest seq a log issued and the log's clock: it was issued
 * by another history, e.g. one written before a restart on a clock that has stepped back since.
 * (The new history's seqs are then smaller than the old ones, and would pass for recovered.)
 * A tick's `<tick>-0` and a frame's `<seq>.<k>` of this log never are.
 */
export function pastIssued(since: string, newest: string | undefined, nowMs: number): boolean {
  const parts = parseSeq(since);
  if (!parts || parts.ms <= nowMs) return false;
  return newest === undefined || compareSeq(durablePart(since), newest) > 0;
}

/** The seq of an ephemeral frame after durable position `position`, its counter `k`. */
export function ephemeralAfter(position: string, k: number): string {
  return `${position}.${k}`;
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
  return pa.ms - pb.ms || pa.n - pb.n || (pa.k ?? -1) - (pb.k ?? -1);
}

/** The seq of an ephemeral event emitted at tick `tickMs` on a topic without a durable log. */
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

  /** The newest seq issued (or the one it was started after), if any. */
  get last(): string | undefined {
    return this.#lastN < 0 ? undefined : formatSeq(this.#lastMs, this.#lastN);
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
