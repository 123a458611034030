/**
 * Keeps the in-memory window honest about trims made from outside (an operator's
 * `XTRIM <prefix>:relay MAXLEN 0`, the seed's clean-up command): every `everyMs` each stream's
 * first retained entry is read (`XINFO STREAM`, O(1)), and window entries older than it are
 * dropped, so a replay no longer serves them and a reader from before the trim is told it was not
 * recovered. Until then (at most `everyMs`) the window may still hold what was just trimmed.
 *
 * The same check reads the streams' epochs: one renewed by another instance (it found entries it
 * acknowledged lost) or gone (Redis came back empty) is a replaced history, reported to
 * `on.replaced`, so that this instance too stops answering from the old one within `everyMs`;
 * and each reply goes to `on.info`, for the gap check of a stream trimmed to nothing.
 * @module
 */
import type { RecentEntries } from "../../core/recent-entries.ts";
import type { Redis } from "./client.ts";
import type { EpochWatch } from "./epochs.ts";
import { infoField, isNoSuchKey, type RawEntry } from "./stream-replies.ts";

export function watchTrims(
  client: Redis,
  prefix: string,
  topics: readonly string[],
  recent: RecentEntries,
  epochs: EpochWatch,
  on: {
    /** A replaced history (see above). */
    replaced: (topic: string) => void;
    /** Each stream's `XINFO STREAM` reply, as it comes (the gap check of a stream trimmed to nothing). */
    info: (topic: string, info: unknown) => void;
  },
  everyMs = 500,
): () => void {
  let running = false;
  const check = async () => {
    if (running || !client.isReady) return;
    running = true;
    try {
      await Promise.all(
        topics.map(async (topic) => {
          try {
            const info = await client.sendCommand<unknown>(["XINFO", "STREAM", `${prefix}:${topic}`]);
            on.info(topic, info);
            const first = infoField(info, "first-entry") as RawEntry | null | undefined;
            if (first) recent.trimBefore(topic, first[0]);
            // Empty, but it had entries: trimmed to nothing. (Never had any: nothing to drop.)
            else if (Number(infoField(info, "entries-added") ?? 0) > 0) recent.trimBefore(topic, undefined);
          } catch (error) {
            if (!isNoSuchKey(error)) throw error;
            // No stream: never had one (nothing to drop), or it was deleted with its history.
            recent.trimBefore(topic, undefined);
          }
        }),
      );
      for (const topic of await epochs.refresh(topics)) on.replaced(topic);
    } finally {
      running = false;
    }
  };
  // A failed check (Redis unreachable) is simply tried again on the next tick.
  const timer = setInterval(() => void check().catch(() => {}), everyMs);
  return () => clearInterval(timer);
}
