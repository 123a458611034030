/**
 * A replay served from the Redis topic log's in-memory window, when it holds every entry after
 * `since` up to what this instance's tailer delivered (the replay gets the rest live).
 * @module
 */
import type { RecentEntries } from "../../core/recent-entries.ts";
import { compareSeq, durablePart } from "../../core/seq.ts";
import type { Epoch, HistoryRead } from "../../core/topic-log.ts";

/** `undefined` when the window cannot answer (the caller reads Redis). */
export function readFromWindow(recent: RecentEntries, epoch: Epoch, position: string, topic: string, since: string | undefined): HistoryRead | undefined {
  const entries = recent.after(topic, since);
  if (!entries) return undefined;
  // A client may bring a `since` this instance's tailer has not reached (it saw the entry on
  // another instance): that is then the tip the tail must pass before the replay goes live.
  const seen = since === undefined ? undefined : durablePart(since);
  const tip = seen !== undefined && compareSeq(seen, position) > 0 ? seen : position;
  return { entries, recovered: since === undefined || compareSeq(since, epoch.start) >= 0, tip, epoch: epoch.id };
}
