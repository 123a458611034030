/**
 * Acknowledged means replicated (`REDIS_MIN_REPLICAS`): before an append is answered, Redis's
 * `WAIT <n> <timeout>` on the connection that wrote it must report at least `n` replicas
 * holding every write sent on that connection so far.
 *
 * Group commit: the callers of one event-loop turn share one `WAIT`, sent in the turn's check
 * phase (`setImmediate`) after all of their writes were answered, so it covers every one of them. (`WAIT` blocks its connection in Redis
 * until it returns; writes sent meanwhile queue behind it and are covered by the next one.)
 * Short of replicas within the timeout, every caller gets `unavailable` (HTTP 503 with
 * `Retry-After`): its entry is in the stream and may be delivered, but was not acknowledged,
 * so a retry can duplicate and nothing acknowledged can be lost with the master.
 *
 * A `WAIT` counts only its own connection's writes: one sent after a reconnect (or, in Cluster
 * mode, to the slot's new owner) would confirm nothing it did not itself carry. So each caller
 * names its connection before writing (`Redis.writeMark`), and a mark that changed by the
 * time the `WAIT` answered means `unavailable` too.
 * @module
 */
import { LogUnavailableError } from "../../core/topic-log.ts";
import type { Redis } from "./client.ts";

export interface ReplicaWaitOptions {
  client: Redis;
  /** Replicas that must hold a write. */
  replicas: number;
  timeoutMs: number;
  /** A key of the written slot (Cluster mode sends `WAIT` to the node serving it). */
  route: string;
  /** Sees each shortfall: replicas reached, or the error. */
  onShort?: (reached: number | Error) => void;
}

export class ReplicaWait {
  readonly #opts: ReplicaWaitOptions;
  /** The `WAIT` this turn's callers join, until it is sent. */
  #pending: Promise<void> | undefined;
  /** `WAIT`s sent, and how many fell short (for tests and metrics). */
  sent = 0;
  short = 0;

  constructor(opts: ReplicaWaitOptions) {
    this.#opts = opts;
  }

  /**
   * Sends `write` (a command on the route's connection) and resolves with its reply once the
   * replicas hold it, sharing this turn's `WAIT`.
   */
  async written<T>(write: () => Promise<T>): Promise<T> {
    const { client, route } = this.#opts;
    const mark = client.writeMark(route);
    const reply = await write();
    this.#pending ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.#pending = undefined;
        this.#send().then(resolve, reject);
      });
    });
    await this.#pending;
    if (client.writeMark(route) === mark) return reply;
    this.short++;
    throw new LogUnavailableError("the redis connection changed before the write's replication was confirmed; retry shortly", "unavailable");
  }

  async #send(): Promise<void> {
    const { client, replicas, timeoutMs, route, onShort } = this.#opts;
    this.sent++;
    let reached: number;
    try {
      // The connection's command timeout (past `timeoutMs`, see storage.ts) bounds a WAIT to a node that stopped answering.
      reached = Number(await client.sendCommand<number>(["WAIT", String(replicas), String(timeoutMs)], route));
    } catch (error) {
      this.short++;
      onShort?.(error as Error);
      throw new LogUnavailableError(`redis WAIT for ${replicas} replica(s) failed: ${(error as Error).message}`, "unavailable", { cause: error });
    }
    if (reached >= replicas) return;
    this.short++;
    onShort?.(reached);
    throw new LogUnavailableError(`only ${reached} of ${replicas} redis replica(s) confirmed the write within ${timeoutMs} ms; retry shortly`, "unavailable");
  }
}
