/**
 * Gap detection on the Redis topic log: `MAXLEN ~` trims a stream without regard to readers,
 * so both a history read (`readAfter`, from the stream's `XINFO STREAM` reply) and the tailer
 * (from each entry's predecessor, and the trim watch's `XINFO` for a stream trimmed to nothing)
 * check whether entries they needed were evicted.
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
  /** The tailer's reads sent so far: the round of the one in flight. */
  round: number;
  /** Streams seen trimmed to nothing past the position, with the round then ({@link checkEmptied}). */
  emptied: Map<string, { last: string; round: number }>;
}

/**
 * Whether the tailer missed entries before `item`, the next entry of `topic` after `position`
 * (where this instance's delivery of it stands): each entry names the id the stream had
 * generated before it (field `p`, written by the append script), so an entry whose predecessor
 * is past `position` follows entries this instance never delivered: trimmed (`MAXLEN ~` of a
 * tailer that fell more than the retained history behind, an operator's `XTRIM … MAXLEN 5` while
 * it was a moment behind, another instance's smaller `HISTORY_SIZE`) or deleted before it read
 * them. Exact, with no round trip. The gap is reported (once per position) before `item` is
 * delivered, so that the reset subscribers hold an offset from before it.
 */
export function checkPredecessor(check: TailGapCheck, topic: string, position: string, item: RawEntry): void {
  const before = predecessor(item);
  if (before !== undefined && compareSeq(before, position) > 0) report(check, check.topics.indexOf(topic), position, undefined, item[0]);
}

/** An entry's field `p`: the id its stream had generated before it (see `append-script.ts`). */
function predecessor([, fields]: RawEntry): string | undefined {
  for (let f = 0; f + 1 < fields.length; f += 2) if (fields[f] === "p") return fields[f + 1];
  return undefined;
}

/**
 * The same for entries without `p` (appended by an earlier version, during a rolling upgrade):
 * their gap can only be seen in the stream's first retained id, which says nothing exact (an
 * entry that is simply the next one may be the first retained too), so it is compared with where
 * the read started only when the read returned many entries or followed a failed or stalled
 * connection (`resumed`), as before `p` existed. Never throws.
 */
export async function checkTailGaps(check: TailGapCheck, streams: [string, RawEntry[]][], keys: string[], from: string[], resumed = false): Promise<void> {
  const threshold = resumed ? 1 : Math.max(1, Math.min(check.readCount, Math.floor(check.historySize / 2)));
  for (const [key, items] of streams) {
    const i = keys.indexOf(key);
    const now = check.positions.get(check.topics[i]!);
    const start = now !== undefined && from[i] !== undefined && compareSeq(now, from[i]!) > 0 ? now : from[i];
    if (items.length < threshold || start === undefined || start === "0-0" || predecessor(items[0]!) !== undefined) continue;
    try {
      const info = await check.client.sendCommand<unknown>(["XINFO", "STREAM", key]);
      const first = infoField(info, "first-entry") as RawEntry | null | undefined;
      if (first && trimmed(info) && compareSeq(first[0], start) > 0) report(check, i, start, first[0], items[0]![0]);
    } catch {
      // A failed check is not a failed read; the next large batch checks again.
    }
  }
}

/**
 * The trim watch's part (`window-check.ts`, every 500 ms): a stream trimmed to nothing
 * (`XTRIM … MAXLEN 0`, the seed's relay clean-up) after entries this instance had not delivered
 * yet were added (its last generated id is past this instance's position) lost them for this
 * instance's live subscribers, and no read will ever return them to be checked. Unless the read
 * in flight got them before the trim: so it is a gap only if the position is still behind once a
 * read sent after this reply has been delivered ({@link confirmEmptied}).
 */
export function checkEmptied(check: TailGapCheck, topic: string, info: unknown): void {
  const position = check.positions.get(topic);
  if (!check.topics.includes(topic) || position === undefined || infoField(info, "first-entry") || !trimmed(info)) return;
  const last = String(infoField(info, "last-generated-id") ?? "0-0");
  if (compareSeq(last, position) > 0 && !check.emptied.has(topic)) check.emptied.set(topic, { last, round: check.round });
}

/** After the tailer delivered read `round`: the emptied streams seen before it was sent that it is still behind. */
export function confirmEmptied(check: TailGapCheck, round: number): void {
  for (const [topic, { last, round: seen }] of check.emptied) {
    if (seen >= round) continue;
    check.emptied.delete(topic);
    const position = check.positions.get(topic);
    if (position !== undefined && compareSeq(last, position) > 0) report(check, check.topics.indexOf(topic), position, undefined, last);
  }
}

/** Entries were removed from the stream (trimmed or deleted). */
const trimmed = (info: unknown) => Number(infoField(info, "entries-added") ?? 0) > Number(infoField(info, "length") ?? 0);

/** Reports a gap on `check.topics[i]` after `start`, once per position. */
function report(check: TailGapCheck, i: number, start: string, firstRetained: string | undefined, next: string): void {
  const key = check.topics[i]!;
  if (check.reported.get(key) === start) return;
  check.reported.set(key, start);
  check.log.error(
    { topic: key, after: start, firstRetained, next },
    "redis tailer fell behind the stream's retention: entries were trimmed before this instance delivered them",
  );
  for (const listener of check.gapListeners) listener(key);
}
