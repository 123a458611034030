/**
 * Which Redis to connect to: one server (`REDIS_URL` / `REDIS_ADDR`), the master a set of
 * Sentinels names (`REDIS_SENTINEL`), or a Cluster (`REDIS_CLUSTER`); at most one is set.
 * @module
 */
import type { Config } from "./fields.ts";
import { redisUrl } from "./urls.ts";

export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is: one server, a Sentinel-watched master, or a Cluster. */
export type RedisTarget =
  | { mode: "single"; url: string }
  | { mode: "sentinel"; master: string; sentinels: RedisNode[]; username?: string; password?: string }
  | { mode: "cluster"; seeds: RedisNode[]; username?: string; password?: string };

/** The Redis to connect to, or `undefined` for a single instance without Redis. */
export function redisTarget(config: Config): RedisTarget | undefined {
  const credentials = {
    ...(config.redisUsername ? { username: config.redisUsername } : {}),
    ...(config.redisPassword ? { password: config.redisPassword } : {}),
  };
  if (config.redisSentinel) {
    const at = config.redisSentinel.indexOf("@");
    return { mode: "sentinel", master: config.redisSentinel.slice(0, at), sentinels: nodes(config.redisSentinel.slice(at + 1)), ...credentials };
  }
  if (config.redisCluster) return { mode: "cluster", seeds: nodes(config.redisCluster), ...credentials };
  const url = redisUrl(config);
  return url ? { mode: "single", url } : undefined;
}

function nodes(list: string): RedisNode[] {
  return list.split(",").map((address) => {
    const colon = address.lastIndexOf(":");
    return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
  });
}
