/**
 * Acknowledged means replicated (`docs/redis-ha.md`): how many Redis replicas must hold an
 * append before tickwire answers it, and how long it waits for them.
 * @module
 */
import { type TSchema, Type } from "@sinclair/typebox";
import { int, type Setting } from "./setting.ts";

export const replicaSettings = {
  redisMinReplicas: {
    env: ["REDIS_MIN_REPLICAS"],
    schema: Type.Integer({
      minimum: 0,
      maximum: 16,
      default: 0,
      description: "replicas that must hold an append (Redis WAIT) before it is acknowledged; short of them within REDIS_WAIT_TIMEOUT_MS it answers 503",
    }),
    expected: "an integer 0..16",
    parse: int,
  },
  redisWaitTimeoutMs: {
    env: ["REDIS_WAIT_TIMEOUT_MS"],
    schema: Type.Integer({
      minimum: 10,
      maximum: 60_000,
      default: 1000,
      description: "how long an append waits for REDIS_MIN_REPLICAS replicas before it answers 503 unavailable (the entry may exist; retry)",
    }),
    expected: "an integer 10..60000 (ms)",
    parse: int,
  },
} satisfies Record<string, Setting<TSchema>>;
