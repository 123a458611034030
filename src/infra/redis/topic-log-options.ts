/**
 * The options of the Redis topic log.
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../log.ts";
import type { Redis } from "./client.ts";

export interface RedisTopicLogOptions {
  /** Command connection (appends, history reads). The tailer duplicates it. */
  client: Redis;
  /** Key prefix (`STREAM_PREFIX`): stream names are `<prefix>:<topic>`. */
  prefix: string;
  /**
   * The durable root topics, a fixed set (e.g. `chat`, `relay`, `timers`). The tailer follows
   * exactly these streams; derived topics ride on them (see the hub's `derive()`).
   */
  topics: readonly string[];
  /** Approximate entries kept per stream (`MAXLEN ~`), i.e. `HISTORY_SIZE`. */
  historySize: number;
  clock: Clock;
  log: Logger;
  /**
   * Appends waiting for Redis at once. Past it `append` rejects as `overloaded` (HTTP 503 with
   * `Retry-After`) instead of queueing without bound behind a slow Redis. The default,
   * `defaultMaxInFlight` (`append-script.ts`), stays under half the retained history so that one burst landing
   * between two tailer reads cannot push unread entries out of the stream.
   */
  maxInFlight?: number;
  /** `XREAD BLOCK` time in ms. The tail connection's command timeout is this plus 3 s. */
  blockMs?: number;
  /** Entries read per stream per `XREAD`. */
  readCount?: number;
  /**
   * `REDIS_MIN_REPLICAS`: replicas that must hold an append before it is acknowledged
   * (`replica-wait.ts`); 0 (default) acknowledges what the master has.
   */
  minReplicas?: number;
  /** `REDIS_WAIT_TIMEOUT_MS`: how long an append waits for them (default 1000). */
  waitTimeoutMs?: number;
  /** Counts history reads by where they were served from (`memory`, `redis`). */
  onHistoryRead?: (source: "memory" | "redis") => void;
}
