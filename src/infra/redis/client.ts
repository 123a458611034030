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
import diagnosticsChannel from "node:diagnostics_channel";
import { createClient, type RedisClientType } from "redis";
import type { Logger } from "../../log.ts";

/**
 * node-redis traces every command through `diagnostics_channel` unless the tracing channel says
 * `hasSubscribers === false` (its zero-cost path). Bun 1.4.5's `TracingChannel` has no
 * `hasSubscribers`, so without this every command pays for a trace context (every argument
 * turned into a string, the stored body included) and `tracePromise`'s wrappers: ~2–3 µs of CPU
 * per command, about 15% of a pipelined command's client cost (bench: pipelined EVALs, 5 × 5000).
 * This is Node's definition (any of the five channels has a subscriber), so a tracer that does
 * subscribe still sees every command. Left alone where the runtime provides it.
 */
export function ensureTracingHasSubscribers(): void {
  const proto = Object.getPrototypeOf(diagnosticsChannel.tracingChannel("tickwire:probe")) as object;
  if ("hasSubscribers" in proto) return;
  Object.defineProperty(proto, "hasSubscribers", {
    configurable: true,
    get(this: Record<"start" | "end" | "asyncStart" | "asyncEnd" | "error", { hasSubscribers: boolean }>) {
      return (
        this.start.hasSubscribers || this.end.hasSubscribers || this.asyncStart.hasSubscribers || this.asyncEnd.hasSubscribers || this.error.hasSubscribers
      );
    },
  });
}
ensureTracingHasSubscribers();

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
