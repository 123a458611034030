/**
 * A replay served from the Redis topic log's in-memory window, when it holds every entry after
 * `since` up to what this instance's tailer delivered (the replay gets the rest live).
 * @module
 */
import type { RecentEntries } from "../../core/recent-entries.ts";
import { compareSeq, durablePart } from "../../core/seq.ts";
import type { Epoch, HistoryRead } from "../../core/topic-log.ts";

/**
 * `undefined` when the window cannot answer (the caller reads Redis). `positions`: where this
 * instance's tailer stands on every stream.
 */
export function readFromWindow(
  recent: RecentEntries,
  epoch: Epoch,
  positions: ReadonlyMap<string, string>,
  topic: string,
  since: string | undefined,
): HistoryRead | undefined {
  const entries = recent.after(topic, since);
  if (!entries) return undefined;
  const position = positions.get(topic) ?? "0-0";
  // A client may bring a `since` this instance's tailer has not reached (it saw the entry on
  // another instance): that is then the tip the tail must pass before the replay goes live.
  const seen = since === undefined ? undefined : durablePart(since);
  // Past every stream's position: only Redis can say whether that id was ever issued.
  if (seen !== undefined && [...positions.values()].every((p) => compareSeq(seen, p) > 0)) return undefined;
  // Ids increase across the streams in append order and the tail delivers in id order: once any
  // stream's position is at or past `seen`, nothing at or before it is still to come on this
  // topic (an offset of another topic, in a merged resume, must not hold this one off live).
  const passed = seen !== undefined && [...positions.values()].some((p) => compareSeq(p, seen) >= 0);
  const tip = seen !== undefined && !passed && compareSeq(seen, position) > 0 ? seen : position;
  return { entries, recovered: since === undefined || compareSeq(since, epoch.start) >= 0, tip, epoch: epoch.id };
}
