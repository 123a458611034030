/**
 * The tick marks of `main.ts` (`core/tick-marks.ts`): this instance's own, and with Redis shared
 * by every instance of the deployment.
 * @module
 */
import type { Config } from "../config/index.ts";
import { TickMarks } from "../core/tick-marks.ts";
import type { Redis } from "../infra/redis/client.ts";
import type { RedisKeyspace } from "../infra/redis/keyspace.ts";
import { RedisTickMarks } from "../infra/redis/tick-marks.ts";
import type { Logger } from "../log.ts";
import { DURABLE_TOPICS } from "./storage.ts";

/** Ticks whose marks are kept (an hour of 1 s ticks): a resume from an older tick uses its own seq. */
export const TICK_MARKS_KEPT = 3600;

export function tickMarksOf(
  config: Config,
  redis: Redis | undefined,
  keyspace: RedisKeyspace | undefined,
  lastDelivered: (root: string) => string | undefined,
  log: Logger,
): TickMarks {
  return new TickMarks({
    roots: DURABLE_TOPICS,
    lastDelivered,
    keep: TICK_MARKS_KEPT,
    shared: redis && keyspace ? new RedisTickMarks(redis, keyspace.log, DURABLE_TOPICS, TICK_MARKS_KEPT * config.tickMs) : undefined,
    onError: (err) => log.debug({ err }, "tick marks in Redis failed; this instance's own are used"),
  });
}
