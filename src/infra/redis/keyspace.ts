/**
 * Where tickwire's Redis keys live. With one server or Sentinel they are `<STREAM_PREFIX>:…`,
 * as always. In Cluster mode each group of keys that one script or one `XREAD` touches together
 * shares a hash tag, so it sits in one slot:
 *
 * - the topic logs (streams, epoch keys, event-id keys, the chat id counter): `{<prefix>}:…`.
 *   The append script reads every tailed stream's tip atomically with its `XADD`, and the tailer
 *   reads every stream in one `XREAD`, so they cannot be split; the whole log lives on one shard.
 * - timer hot state (`{<prefix>:hot}:…`: a hash per timer and their index set);
 * - presence (`{<prefix>:presence}:…`: a sorted set per topic and the topics' index).
 *
 * The three groups land on different slots, so on a cluster they usually sit on different
 * shards. See docs/redis-ha.md for the trade-offs.
 * @module
 */
import type { RedisTarget } from "../../config/index.ts";

export interface RedisKeyspace {
  /** Prefix of the topic logs' keys and the chat id counter. */
  log: string;
  /** Prefix of the timers' hot state. */
  hot: string;
  /** Prefix of presence. */
  presence: string;
}

export function keyspaceOf(prefix: string, mode: RedisTarget["mode"]): RedisKeyspace {
  if (mode !== "cluster") return { log: prefix, hot: prefix, presence: prefix };
  return { log: `{${prefix}}`, hot: `{${prefix}:hot}`, presence: `{${prefix}:presence}` };
}
