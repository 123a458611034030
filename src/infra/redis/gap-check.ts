/**
 * Gap detection on the Redis topic log: `MAXLEN ~` trims a stream without regard to readers,
 * so both a history read (`readAfter`) and the tailer check whether entries they needed were
 * evicted, reading the stream's `XINFO STREAM` reply.
 * @module
 */
import { compareSeq } from "../../core/seq.ts";
import type { Logger } from "../../log.ts";
import type { Redis } from "./client.ts";
import { infoField, type RawEntry } from "./stream-replies.ts";

/**
 * Whether nothing after `since` was evicted. `MAXLEN ~` trimming does not move Redis 7's
 * `max-deleted-entry-id` (only `XDEL` does), so: a stream that never lost an entry
 * (`entries-added` = `length`) has no gap; otherwise `since` must not be older than the first
 * retained entry. A client whose last entry was the newest one trimmed is told to reload,
 * the safe side. Redis 6 lacks `entries-added`: a stream shorter than `historySize`
 * (`HISTORY_SIZE`) counts as untrimmed.
 */
export function recoveredSince(info: unknown, since: string, historySize: number): boolean {
  const maxDeleted = infoField(info, "max-deleted-entry-id");
  if (typeof maxDeleted === "string" && compareSeq(since, maxDeleted) < 0) return false;
  const length = Number(infoField(info, "length") ?? 0);
  const added = infoField(info, "entries-added");
  if (added !== undefined ? Number(added) <= length : length < historySize) return true;
  const first = infoField(info, "first-entry") as RawEntry | null | undefined;
  if (!first) return compareSeq(since, String(infoField(info, "last-generated-id") ?? "0-0")) >= 0;
  return compareSeq(since, first[0]) >= 0;
}

/** What the tailer's gap check needs from the log. */
export interface TailGapCheck {
  /** Command connection, for `XINFO STREAM`. */
  client: Redis;
  /** The durable root topics, in the order of the tailer's stream keys. */
  topics: readonly string[];
  /** Entries read per stream per `XREAD`. */
  readCount: number;
  /** Approximate entries kept per stream (`MAXLEN ~`). */
  historySize: number;
  log: Logger;
  /** Called with the topic of each gap found. */
  gapListeners: Iterable<(topic: string) => void>;
  /**
   * The read position each stream's last gap was found at: a read whose batch stopped before
   * that stream (see `inIdOrder`) reads it again from there, and must not report it twice.
   */
  reported: Map<string, string>;
  /**
   * Where each topic's delivery stands now: an instance's own entries are delivered as they are
   * appended, so while a read was pending the position may have passed what it started from.
   */
  positions: ReadonlyMap<string, string>;
}

/**
 * `MAXLEN ~` trims without regard to readers: a tailer that fell more than the retained history
 * behind (a burst from many instances while it was stalled) never sees the trimmed entries.
 * That can only happen when a read returns many entries, or after the tailer's connection failed
 * or stalled (`resumed`: meanwhile an operator may have trimmed, `XTRIM … MAXLEN 5`, and the read
 * then returns few), so only then is the stream's first retained id compared with where the read started (`from`, per stream key in `keys`); a gap is
 * logged as an error, loudly, and reported to `onGap` listeners: the hub then disconnects this
 * instance's live subscribers of the topic (4008 / SSE overflow) so that they resume from their
 * offset and are told they were not recovered, instead of silently missing those entries.
 * Never throws.
 */
export async function checkTailGaps(check: TailGapCheck, streams: [string, RawEntry[]][], keys: string[], from: string[], resumed = false): Promise<void> {
  const threshold = resumed ? 1 : Math.max(1, Math.min(check.readCount, Math.floor(check.historySize / 2)));
  for (const [key, items] of streams) {
    const i = keys.indexOf(key);
    const now = check.positions.get(check.topics[i]!);
    const start = now !== undefined && from[i] !== undefined && compareSeq(now, from[i]!) > 0 ? now : from[i];
    if (items.length < threshold || start === undefined || start === "0-0") continue;
    try {
      const info = await check.client.sendCommand<unknown>(["XINFO", "STREAM", key]);
      const first = infoField(info, "first-entry") as RawEntry | null | undefined;
      const trimmed = Number(infoField(info, "entries-added") ?? 0) > Number(infoField(info, "length") ?? 0);
      if (first && trimmed && compareSeq(first[0], start) > 0 && check.reported.get(key) !== start) {
        check.reported.set(key, start);
        check.log.error(
          { topic: check.topics[i], after: start, firstRetained: first[0], firstRead: items[0]![0] },
          "redis tailer fell behind the stream's retention: entries were trimmed before this instance delivered them",
        );
        for (const listener of check.gapListeners) listener(check.topics[i]!);
      }
    } catch {
      // A failed check is not a failed read; the next large batch checks again.
    }
  }
}
