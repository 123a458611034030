/**
 * Redis connections (node-redis v6), to one server (`REDIS_URL`), to the master a set of
 * Sentinels names (`REDIS_SENTINEL`), or to a Cluster (`REDIS_CLUSTER`), behind one small
 * {@link Redis} interface: raw commands (`sendCommand`), readiness and a dedicated copy. One
 * connection per concern: blocking reads (`XREAD BLOCK`) and pub/sub each need their own, or
 * they would stall every other command queued behind them.
 *
 * Faults: the client reconnects forever with capped backoff (Sentinel: to whichever master the
 * Sentinels name; Cluster: following `MOVED`/`ASK` and the new slot map); while disconnected,
 * commands fail at once (`disableOfflineQueue`) so that callers answer 503 instead of accepting
 * work that may be lost; a command that gets no reply within the command timeout is rejected
 * (a Redis that stopped answering); errors are logged once per outage, not per retry.
 * @module
 */
import diagnosticsChannel from "node:diagnostics_channel";
import type { RedisTarget } from "../../config/index.ts";
import type { Logger } from "../../log.ts";
import { openRaw, type RawRedis } from "./client-modes.ts";
import { Deadlines } from "./deadlines.ts";

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

/** A connected Redis, whatever its topology. Replies are as node-redis's `sendCommand` gives them (RESP3 by default). */
export interface Redis {
  readonly mode: RedisTarget["mode"];
  /** Connected (Cluster: the slot map is known; a node may still be down). */
  readonly isReady: boolean;
  /**
   * One command. In Cluster mode it goes to the node serving its first key (`route-key.ts`), or
   * to the one serving `route` when given (a keyless command such as `WAIT` that must reach the
   * node holding that key).
   */
  sendCommand<T = unknown>(args: string[], route?: string): Promise<T>;
  /**
   * Names the connection a command routed by `route` goes over now. Two equal marks mean that no
   * connection dropped between them (and in Cluster mode that the route's slot stayed on one
   * node): a `WAIT` answered in between covers the writes sent after the first.
   */
  writeMark(route?: string): string;
  on(event: "ready" | "error", listener: (...args: never[]) => void): unknown;
  off(event: "ready" | "error", listener: (...args: never[]) => void): unknown;
  /** A new connection to the same Redis, for a blocking reader; `onError` sees its errors. */
  duplicate(opts: { name: string; commandTimeoutMs: number; onError?: (err: Error) => void }): Promise<Redis>;
  /** Waits for replies in flight, then disconnects. */
  close(): Promise<void>;
  /** Disconnects now, rejecting what is in flight. */
  destroy(): void;
}

export interface RedisOptions {
  /** Where Redis is; `url` is short for `{ mode: "single", url }`. */
  target?: RedisTarget;
  url?: string;
  log: Logger;
  /** Connection name shown by `CLIENT LIST`, for operators. */
  name: string;
  /**
   * Per-command timeout, from the call to the reply (`deadlines.ts`): a command unanswered by
   * then is rejected; a blocking command needs one longer than its block time.
   */
  commandTimeoutMs?: number;
}

/**
 * Connects a client; resolves once connected, or rejects if the first connect fails: at once
 * when a single server refuses it, after {@link FIRST_CONNECT_MS} when nothing answers (or a
 * Sentinel or Cluster finds no node). Only later outages are retried forever.
 */
export async function connectRedis({ target: given, url, log, name, commandTimeoutMs = 5000 }: RedisOptions): Promise<Redis> {
  const target: RedisTarget = given ?? { mode: "single", url: url ?? "redis://127.0.0.1:6379" };
  let down = false;
  return await connectTo(target, name, commandTimeoutMs, {
    onError(err) {
      if (!down) log.warn({ err: err.message, redis: name, mode: target.mode }, "redis connection error; reconnecting");
      down = true;
    },
    onReady() {
      if (down) log.info({ redis: name }, "redis connection restored");
      down = false;
    },
  });
}

interface Events {
  onError: (err: Error) => void;
  onReady?: () => void;
}

/**
 * How long a first connect may take. node-redis retries a refused connect, and waits forever
 * for the handshake's replies, so without it a start against an unreachable Redis neither
 * listened nor exited (`main.ts` now logs "startup failed" and exits 1, as for the database).
 * Above the socket's connect timeout (5 s), so that a slow network gets one full attempt.
 */
const FIRST_CONNECT_MS = 10_000;

async function connectTo(target: RedisTarget, name: string, commandTimeoutMs: number, events: Events): Promise<Redis> {
  const raw = openRaw(target, name, commandTimeoutMs);
  let failed: ((error: Error) => void) | undefined;
  let lastError: Error | undefined;
  raw.client.on("error", (err: unknown) => {
    lastError = err instanceof Error ? err : new Error(String(err));
    // One server that refuses the first connect is down now: fail like the database does.
    if (failed && target.mode === "single") return failed(lastError);
    events.onError(lastError);
  });
  if (events.onReady) raw.client.on("ready", events.onReady);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    failed = (error) => reject(new Error(`redis ${name}: first connect failed: ${error.message}`, { cause: error }));
    timer = setTimeout(
      () => reject(new Error(`redis ${name}: not connected within ${FIRST_CONNECT_MS} ms (${lastError?.message ?? "no answer"})`)),
      FIRST_CONNECT_MS,
    );
  });
  try {
    await Promise.race([raw.client.connect(), giveUp]);
  } catch (error) {
    void Promise.resolve(raw.client.destroy()).catch(() => {});
    throw error;
  } finally {
    failed = undefined;
    clearTimeout(timer);
  }
  return new Connection(target, raw, new Deadlines(commandTimeoutMs));
}

class Connection implements Redis {
  readonly mode: RedisTarget["mode"];
  readonly #target: RedisTarget;
  readonly #raw: RawRedis;
  readonly #deadlines: Deadlines;

  constructor(target: RedisTarget, raw: RawRedis, deadlines: Deadlines) {
    this.mode = target.mode;
    this.#target = target;
    this.#raw = raw;
    this.#deadlines = deadlines;
  }

  get isReady(): boolean {
    return this.#raw.ready();
  }

  sendCommand<T = unknown>(args: string[], route?: string): Promise<T> {
    return this.#deadlines.bound(this.#raw.send(args, route) as Promise<T>);
  }

  writeMark(route?: string): string {
    return this.#raw.mark(route);
  }

  on(event: "ready" | "error", listener: (...args: never[]) => void): unknown {
    return this.#raw.client.on(event, listener);
  }

  off(event: "ready" | "error", listener: (...args: never[]) => void): unknown {
    return this.#raw.client.off(event, listener);
  }

  duplicate({ name, commandTimeoutMs, onError }: { name: string; commandTimeoutMs: number; onError?: (err: Error) => void }): Promise<Redis> {
    return connectTo(this.#target, name, commandTimeoutMs, { onError: onError ?? (() => {}) });
  }

  async close(): Promise<void> {
    await this.#raw.client.close();
  }

  destroy(): void {
    void Promise.resolve(this.#raw.client.destroy()).catch(() => {});
  }
}

/** `true` when `client` is connected and answers PING within its command timeout. */
export async function pingRedis(client: Redis): Promise<boolean> {
  if (!client.isReady) return false;
  try {
    return (await client.sendCommand<string>(["PING"])) === "PONG";
  } catch {
    return false;
  }
}
