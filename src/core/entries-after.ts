/**
 * The entries of a ring strictly after an offset: what every in-memory history (the in-process
 * log, the embedded SQLite log's ring, the Redis log's window) answers a replay with.
 * @module
 */
import type { RingBuffer } from "./ring-buffer.ts";
import { compareSeq } from "./seq.ts";
import type { LogEntry } from "./topic-log.ts";

/** Entries of `ring` (seqs increasing) strictly after `since` (all when absent), oldest first, at most `limit`. */
export function entriesAfter(ring: RingBuffer<LogEntry>, since: string | undefined, limit = Infinity): LogEntry[] {
  // Seqs increase along the ring: binary-search the first entry after `since`.
  let lo = 0;
  let hi = ring.size;
  if (since !== undefined) {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareSeq(ring.at(mid)!.seq, since) > 0) hi = mid;
      else lo = mid + 1;
    }
  }
  const out: LogEntry[] = [];
  for (const entry of ring.from(lo)) {
    if (out.length >= limit) break;
    out.push(entry);
  }
  return out;
}
