/**
 * After the tailer's connection came back, possibly to a different master (a Sentinel or
 * Cluster failover promoted a replica): does each stream still hold what this instance
 * delivered and acknowledged?
 *
 * A stream whose last generated id is before an entry this instance acknowledged (or, with
 * `REDIS_MIN_REPLICAS=0`, delivered: another instance may have acknowledged it without any
 * replica) lost acknowledged entries with the old master. Its epoch is then renewed (compare
 * and set, so that of several instances noticing, one renews), starting now: every client
 * resuming from the old history is told `recovered:false`, never silence. With
 * `REDIS_MIN_REPLICAS >= 1` an entry past the end that nobody acknowledged here (it was read
 * before any replica had it, and its writer got 503) is not a loss: the epoch stays.
 *
 * Either way, the tailer's position moves back to the stream's end (so that nothing appended
 * to the new master is skipped) and the in-memory window of that topic, which holds entries
 * Redis no longer has, is dropped.
 * @module
 */

import type { RecentEntries } from "../../core/recent-entries.ts";
import { compareSeq } from "../../core/seq.ts";
import type { Logger } from "../../log.ts";
import type { Redis } from "./client.ts";
import { renewEpoch } from "./epoch-renew.ts";
import type { EpochWatch } from "./epochs.ts";
import { streamEnd } from "./history-read.ts";

export interface FailoverCheck {
  client: Redis;
  prefix: string;
  topics: readonly string[];
  epochs: EpochWatch;
  /** Last delivered id per topic; moved back to a stream's end when it is past it. */
  positions: Map<string, string>;
  /** Newest id per topic this instance acknowledged to a writer; forgotten once a loss is handled. */
  acked: Map<string, string>;
  /** `REDIS_MIN_REPLICAS`: with 0, delivered entries count as possibly acknowledged. */
  minReplicas: number;
  recent: RecentEntries;
  log: Logger;
}

/** Checks every stream; returns the topics whose history was replaced (new epoch). */
export async function checkAfterReconnect(c: FailoverCheck): Promise<string[]> {
  // Taken before the ends are read: an append acknowledged meanwhile (the command connection
  // keeps writing) is past the end read and would pass for lost.
  const ackedBefore = c.topics.map((topic) => c.acked.get(topic));
  const ends = await Promise.all(c.topics.map((topic) => streamEnd(c.client, `${c.prefix}:${topic}`)));
  await Promise.all(
    c.topics.map(async (topic, i) => {
      const end = ends[i]!;
      const key = `${c.prefix}:${topic}`;
      const position = c.positions.get(topic) ?? "0-0";
      const acked = ackedBefore[i];
      // Gone from a stream that still ends past it, e.g. restored from older data and then
      // appended to by another instance before this one looked.
      const lostAcked = acked !== undefined && (compareSeq(end, acked) < 0 || (await vanished(c.client, key, acked)));
      const lostDelivered = compareSeq(end, position) < 0 || (await vanished(c.client, key, position));
      if (!lostDelivered && !lostAcked) return;
      c.recent.reset(topic);
      if (compareSeq(end, position) < 0) c.positions.set(topic, end);
      const lost = lostAcked || (lostDelivered && c.minReplicas === 0);
      c.log.error(
        { topic, streamEnd: end, delivered: position, acknowledged: acked, minReplicas: c.minReplicas, renewEpoch: lost },
        lost
          ? "redis stream lost acknowledged entries (failover to a replica that lacked them, or restart from older data): starting a new epoch"
          : "redis stream ends before entries this instance delivered but nobody acknowledged (read before any replica had them): resuming from its end",
      );
      if (lost) {
        await renewEpoch(c.client, c.prefix, topic, c.epochs.get(topic)?.id);
        // Handled: a later reconnect must not count the same loss again (and renew again).
        if (c.acked.get(topic) === acked) c.acked.delete(topic);
      }
    }),
  );
  // A Redis that came back empty: a stream never written gets its fresh epoch again.
  return c.epochs.refresh(c.topics, true);
}

/**
 * Whether the entry `id`, which the stream held, is gone while an older one is still there: not
 * trimmed (trimming removes the oldest first) but lost, or deleted by hand.
 */
async function vanished(client: Redis, key: string, id: string): Promise<boolean> {
  if (id === "0-0") return false;
  const [at, before] = await Promise.all([
    client.sendCommand<unknown[]>(["XRANGE", key, id, id]),
    client.sendCommand<unknown[]>(["XREVRANGE", key, id, "-", "COUNT", "1"]),
  ]);
  return (at ?? []).length === 0 && (before ?? []).length > 0;
}
