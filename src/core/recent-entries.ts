/**
 * The newest entries of each root topic, kept in memory by a log whose history lives elsewhere
 * (Redis): a replay inside this window reads nothing from the store. The window is fed in log
 * order (by the tailer), so it holds a contiguous run of the topic's history ending at the last
 * entry this instance delivered.
 * @module
 */

import { entriesAfter } from "./entries-after.ts";
import { RingBuffer } from "./ring-buffer.ts";
import { compareSeq, durablePart } from "./seq.ts";
import type { LogEntry } from "./topic-log.ts";

export class RecentEntries {
  #capacity: number;
  #rings = new Map<string, RingBuffer<LogEntry>>();
  /** Topics whose ring holds every entry the store retains (nothing older exists). */
  #complete = new Set<string>();

  /** @param capacity entries kept per topic (`HISTORY_SIZE`). */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /**
   * Starts `topic` from the store's newest entries, oldest first. `complete` when that is all
   * the store has (a stream shorter than the window).
   */
  fill(topic: string, entries: readonly LogEntry[], complete: boolean): void {
    const ring = this.#ring(topic);
    for (const entry of entries) ring.push(entry);
    if (complete && entries.length < this.#capacity) this.#complete.add(topic);
    else this.#complete.delete(topic);
  }

  /** Adds the next entry of its topic (delivered in log order). */
  push(entry: LogEntry): void {
    const ring = this.#ring(entry.topic);
    if (ring.isFull) this.#complete.delete(entry.topic);
    ring.push(entry);
  }

  /**
   * The store no longer holds entries before `first` (trimmed from outside, e.g. an operator's
   * `XTRIM`), or nothing at all (`undefined`): drop them from the window too.
   */
  trimBefore(topic: string, first: string | undefined): void {
    const ring = this.#rings.get(topic);
    if (!ring) return;
    if (first === undefined) return this.reset(topic);
    let dropped = false;
    while (ring.size > 0 && compareSeq(ring.at(0)!.seq, first) < 0) {
      ring.shift();
      dropped = true;
    }
    if (dropped) this.#complete.delete(topic);
  }

  /** Forgets `topic`'s window (its history was replaced: a new epoch). */
  reset(topic: string): void {
    this.#rings.delete(topic);
    this.#complete.delete(topic);
  }

  /**
   * The entries of `topic` strictly after `since` (all when absent), at most `limit`, if the
   * window is known to hold every one of them; `undefined` when the store must be asked.
   */
  after(topic: string, since: string | undefined, limit = Infinity): LogEntry[] | undefined {
    const ring = this.#rings.get(topic);
    if (!ring) return undefined;
    const oldest = ring.at(0);
    const covered = this.#complete.has(topic) || (since !== undefined && oldest !== undefined && compareSeq(durablePart(since), oldest.seq) >= 0);
    if (!covered) return undefined;
    return entriesAfter(ring, since, limit);
  }

  #ring(topic: string): RingBuffer<LogEntry> {
    let ring = this.#rings.get(topic);
    if (!ring) this.#rings.set(topic, (ring = new RingBuffer({ capacity: this.#capacity, overflow: "drop-oldest" })));
    return ring;
  }
}
