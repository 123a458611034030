/**
 * The settings of Redis topologies (`docs/redis-ha.md`): Sentinel or Cluster instead of one
 * `REDIS_URL`, and the data nodes' credentials.
 * @module
 */
import { type TSchema, Type } from "@sinclair/typebox";
import type { Setting } from "./setting.ts";

const ADDRESS = "[^,@\\s:/]+:\\d{1,5}";

export const redisSettings = {
  redisSentinel: {
    env: ["REDIS_SENTINEL"],
    schema: Type.Optional(
      Type.String({
        pattern: `^[A-Za-z0-9._-]+@${ADDRESS}(,${ADDRESS})*$`,
        description: "<master name>@host:26379,host:26379,…: connect through Redis Sentinel instead of REDIS_URL; the master follows failovers",
      }),
    ),
    expected: "<master name>@host:port,host:port,… (e.g. tw@s1:26379,s2:26379,s3:26379)",
  },
  redisCluster: {
    env: ["REDIS_CLUSTER"],
    schema: Type.Optional(
      Type.String({
        pattern: `^${ADDRESS}(,${ADDRESS})*$`,
        description: "host:6379,host:6379,…: seed nodes of a Redis Cluster, instead of REDIS_URL",
      }),
    ),
    expected: "host:port,host:port,… (seed nodes of the cluster)",
  },
  redisUsername: {
    env: ["REDIS_USERNAME"],
    schema: Type.Optional(
      Type.String({ minLength: 1, description: "ACL user of the data nodes with REDIS_SENTINEL or REDIS_CLUSTER (REDIS_URL carries its own)" }),
    ),
    expected: "a user name",
  },
  redisPassword: {
    env: ["REDIS_PASSWORD"],
    schema: Type.Optional(
      Type.String({ minLength: 1, description: "password of the data nodes with REDIS_SENTINEL or REDIS_CLUSTER (REDIS_URL carries its own)" }),
    ),
    expected: "a password",
  },
} satisfies Record<string, Setting<TSchema>>;
