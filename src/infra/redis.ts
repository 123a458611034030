/**
 * Redis connections (node-redis v6). One command client per concern: blocking reads
 * (`XREAD BLOCK`) and pub/sub each need a dedicated connection (`duplicate()`), or they would
 * stall every other command queued behind them.
 *
 * Faults: the client reconnects forever with capped backoff; while disconnected, commands fail
 * at once (`disableOfflineQueue`) so that callers answer 503 instead of accepting work that may
 * be lost; errors are logged once per outage, not per retry.
 * @module
 */
import { createClient, type RedisClientType } from "redis";
import type { Logger } from "../log.ts";

export type Redis = RedisClientType;

export interface RedisOptions {
  url: string;
  log: Logger;
  /** Connection name shown by `CLIENT LIST`, for operators. */
  name: string;
  /** Per-command timeout; a blocking command needs one longer than its block time. */
  commandTimeoutMs?: number;
}

/** Connects a client; resolves once connected (or rejects if the first connect fails in 5 s). */
export async function connectRedis({ url, log, name, commandTimeoutMs = 5000 }: RedisOptions): Promise<Redis> {
  let down = false;
  const client = createClient({
    url,
    name,
    disableOfflineQueue: true,
    commandOptions: { timeout: commandTimeoutMs },
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
    },
  }) as unknown as Redis;
  client.on("error", (err: Error) => {
    if (!down) log.warn({ err: err.message, redis: name }, "redis connection error; reconnecting");
    down = true;
  });
  client.on("ready", () => {
    if (down) log.info({ redis: name }, "redis connection restored");
    down = false;
  });
  await client.connect();
  return client;
}

/** `true` when `client` is connected and answers PING within its command timeout. */
export async function pingRedis(client: Redis): Promise<boolean> {
  if (!client.isReady) return false;
  try {
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  }
}
