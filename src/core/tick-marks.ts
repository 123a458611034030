/**
 * Where each durable log stood when a tick went out, so that a resume from a tick's seq
 * (`<tick>-0`, the seq of every `cron` frame) starts where the client really was.
 *
 * A tick's seq is its wall-clock boundary on this instance's clock; log entries are numbered by
 * the log (in Redis mode by Redis's clock) and reach the hub a moment after they are appended.
 * So an entry numbered before a tick can be delivered after it (the instance's clock ahead of
 * Redis's, or the tail a moment behind), and one numbered after it can be delivered before it
 * (Redis's clock ahead). A client that saw the tick and resumed from its seq would skip the first
 * kind and get the second twice. The mark of a tick is, per durable root, the newest seq this
 * instance had delivered when it sent the tick; a resume of a root from the tick's seq starts
 * after the older of that mark and the tick's own seq: every entry delivered after the tick is
 * replayed, even one numbered before it. Never later than the tick's seq: a client that was not
 * on that root when the tick came (`cron` first, `chat` subscribed later from the tick's seq)
 * never got the entries numbered after the tick that were delivered before it, and gets them.
 * The price is a repeat: an entry numbered after the tick and delivered before it (Redis's clock
 * ahead of the instance's, or a tick that fired late) reaches a client that was on the root again.
 *
 * Several instances tick the same boundaries, each with its own mark. With a shared store
 * (Redis) each root keeps the oldest mark of all instances, because the client may have seen the
 * tick on any of them: a resume may then repeat what an instance delivered between another
 * instance's tick and its own (their clocks' difference, plus the tails' lag), and loses none.
 * A tick without a mark (older than the marks kept, or from before a restart, or a shared store
 * that failed or did not answer in time, and this instance without one) resumes from its own seq,
 * as any other offset.
 * @module
 */
import { compareSeq } from "./seq.ts";

/** Per durable root, the newest seq delivered when a tick went out (roots with none are absent). */
export type TickMark = Readonly<Record<string, string>>;

/** Marks shared by the instances of one deployment: per root, the oldest mark put for a tick. */
export interface SharedTickMarks {
  put(tickAt: number, mark: TickMark): Promise<void>;
  /** Rejects when the store fails or does not answer promptly (every resume from a tick waits for it). */
  get(tickAt: number): Promise<TickMark | undefined>;
}

export interface TickMarksOptions {
  /** The roots with a durable log. */
  roots: readonly string[];
  /** The newest durable seq this instance has delivered on `root` (the hub's `lastDelivered`). */
  lastDelivered(root: string): string | undefined;
  /** Ticks whose marks are kept here (default 3600: an hour of 1 s ticks). */
  keep?: number;
  shared?: SharedTickMarks;
  /** A shared store that failed; the local mark is used meanwhile. */
  onError?: (error: unknown) => void;
}

const TICK_SEQ = /^([1-9]\d*)-0$/;

/** The tick boundary `seq` names, if it is a tick's seq (log entries never have counter 0). */
export function tickOf(seq: string): number | undefined {
  const m = TICK_SEQ.exec(seq);
  return m ? Number(m[1]) : undefined;
}

export class TickMarks {
  #opts: TickMarksOptions;
  #keep: number;
  #local = new Map<number, TickMark>();
  #previous: TickMark = {};

  constructor(opts: TickMarksOptions) {
    this.#opts = opts;
    this.#keep = Math.max(1, opts.keep ?? 3600);
  }

  /** Call right before the tick at `tickAt` is sent (nothing is delivered in between). */
  record(tickAt: number): void {
    const mark: Record<string, string> = {};
    let same = true;
    for (const root of this.#opts.roots) {
      const seq = this.#opts.lastDelivered(root);
      if (seq === undefined || seq === "0-0") continue;
      mark[root] = seq;
      if (this.#previous[root] !== seq) same = false;
    }
    if (Object.keys(this.#previous).length !== Object.keys(mark).length) same = false;
    // A quiet log leaves consecutive marks equal: they share one object.
    if (!same) this.#previous = Object.freeze(mark);
    this.#local.delete(tickAt);
    this.#local.set(tickAt, this.#previous);
    if (this.#local.size > this.#keep) this.#local.delete(this.#local.keys().next().value!);
    this.#opts.shared?.put(tickAt, this.#previous).catch((error: unknown) => this.#opts.onError?.(error));
  }

  /** Where a resume of `root` from `since` starts: for a tick's seq the older of its mark and itself, else `since`. */
  resolve(root: string, since: string): string | Promise<string> {
    const tickAt = tickOf(since);
    if (tickAt === undefined || !this.#opts.roots.includes(root)) return since;
    const local = oldest(this.#local.get(tickAt)?.[root], since)!;
    const { shared } = this.#opts;
    if (!shared) return local;
    return shared.get(tickAt).then(
      (mark) => oldest(mark?.[root], local)!,
      (error: unknown) => {
        this.#opts.onError?.(error);
        return local;
      },
    );
  }
}

function oldest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareSeq(a, b) <= 0 ? a : b;
}
