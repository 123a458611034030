/**
 * The topic log on Redis Streams (`REDIS_URL` set): one stream per durable root topic,
 * `<prefix>:<topic>`, each entry holding the body as one JSON field (`d`) and the append time
 * (`ts`). The stream id is the entry's `seq`.
 *
 * Delivery: `append` only writes (`XADD … MAXLEN ~ HISTORY_SIZE`); ONE tailer per instance reads
 * every stream (`XREAD BLOCK` on its own connection) and hands entries to the tail listeners, so
 * an entry appended on any instance reaches each instance exactly once, in stream order. The
 * tailer starts at the end of each stream (no old history re-delivered) and, after an outage,
 * resumes from the last id it delivered: nothing missed, nothing twice.
 *
 * Appends are never accepted and then lost: while Redis is down, or while `maxInFlight` appends
 * are already waiting for Redis, `append` rejects with {@link LogUnavailableError} at once.
 *
 * Detecting entries lost to `MAXLEN ~` trimming is in `gap-check.ts`; waiting out an outage in
 * `wait-ready.ts`.
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import { Listeners } from "../../core/listeners.ts";
import { compareSeq } from "../../core/seq.ts";
import {
  type AppendOptions,
  type HistoryRead,
  type LogEntry,
  LogUnavailableError,
  StoredEntry,
  type TailListener,
  type TopicLog,
} from "../../core/topic-log.ts";
import type { Logger } from "../../log.ts";
import { APPEND_SCRIPT, defaultMaxInFlight, EVENT_ID_TTL_SECONDS } from "./append-script.ts";
import type { Redis } from "./client.ts";
import { checkTailGaps, recoveredSince, type TailGapCheck } from "./gap-check.ts";
import { infoField, isNoSuchKey, type RawEntry, streamsOf, toEntry } from "./stream-replies.ts";
import { waitReady } from "./wait-ready.ts";

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
   * {@link defaultMaxInFlight}, stays under half the retained history so that one burst landing
   * between two tailer reads cannot push unread entries out of the stream.
   */
  maxInFlight?: number;
  /** `XREAD BLOCK` time in ms. The tail connection's command timeout is this plus 3 s. */
  blockMs?: number;
  /** Entries read per stream per `XREAD`. */
  readCount?: number;
}

export class RedisTopicLog implements TopicLog {
  #opts: Required<Omit<RedisTopicLogOptions, "client">>;
  #client: Redis;
  #tailClient: Redis | undefined;
  #listeners: Listeners<[LogEntry]>;
  #gapListeners = new Set<(topic: string) => void>();
  /** Last id delivered per topic (or the stream's end when the tailer started). */
  #positions = new Map<string, string>();
  #inFlight = 0;
  #stopping = false;
  #tailerUp = false;
  #loop: Promise<void> | undefined;
  /** For {@link waitReady}: the tailer stops waiting once the log is stopping. */
  readonly #isStopping = () => this.#stopping;
  readonly #gapCheck: TailGapCheck;

  constructor(opts: RedisTopicLogOptions) {
    this.#client = opts.client;
    this.#opts = { maxInFlight: defaultMaxInFlight(opts.historySize), blockMs: 2000, readCount: 1000, ...opts };
    this.#listeners = new Listeners((error) => this.#opts.log.error({ err: error }, "topic log listener failed"));
    const { topics, readCount, historySize, log } = this.#opts;
    this.#gapCheck = { client: this.#client, topics, readCount, historySize, log, gapListeners: this.#gapListeners };
  }

  /** Appends waiting for Redis (reported as a queue depth). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves each stream's current end, then starts the tailer. Call once, before traffic. */
  async start(): Promise<void> {
    const tail = this.#client.duplicate({ commandOptions: { timeout: this.#opts.blockMs + 3000 }, name: `${this.#opts.prefix}-tailer` }) as Redis;
    let down = false;
    tail.on("error", (err: Error) => {
      if (!down && !this.#stopping) this.#opts.log.warn({ err: err.message, redis: "tailer" }, "redis tailer connection error; reconnecting");
      down = true;
      this.#tailerUp = false;
    });
    tail.on("ready", () => {
      down = false;
    });
    await tail.connect();
    this.#tailClient = tail;
    await Promise.all(this.#opts.topics.map(async (topic) => this.#positions.set(topic, await this.#streamEnd(topic))));
    this.#tailerUp = true;
    this.#loop = this.#tailLoop(tail);
  }

  async append(topic: string, body: Record<string, unknown>, opts?: AppendOptions): Promise<LogEntry> {
    if (!this.#positions.has(topic)) throw new Error(`topic ${topic} is not a durable root topic of this log (${this.#opts.topics.join(", ")})`);
    if (this.#stopping || !this.#client.isReady) throw new LogUnavailableError("redis is unreachable; retry shortly", "unavailable");
    if (this.#inFlight >= this.#opts.maxInFlight) {
      throw new LogUnavailableError(`append queue full (${this.#opts.maxInFlight} waiting for redis); retry shortly`, "overloaded");
    }
    this.#inFlight++;
    const ts = Math.floor(this.#opts.clock.now());
    const json = JSON.stringify(body);
    const keys = opts?.eventId === undefined ? [this.#key(topic)] : [this.#key(topic), `${this.#opts.prefix}:eid:${opts.eventId}`];
    const args = ["EVAL", APPEND_SCRIPT, String(keys.length), ...keys, String(this.#opts.historySize), json, String(ts), String(EVENT_ID_TTL_SECONDS)];
    try {
      const seq = await this.#client.sendCommand<string>(args);
      return new StoredEntry(topic, seq, ts, json, body);
    } catch (error) {
      // A timed-out XADD may still have been stored: the caller answers 503 and may retry, which
      // can duplicate but never loses an entry it was told was stored.
      throw new LogUnavailableError(`redis append on ${topic} failed: ${(error as Error).message}`, "unavailable", { cause: error });
    } finally {
      this.#inFlight--;
    }
  }

  /**
   * `XRANGE (since +`, then `XINFO STREAM` for the eviction point: in that order, a trim racing
   * with the read can only make `recovered` falsely negative (the client reloads), never hide a gap.
   */
  async readAfter(topic: string, since: string | undefined, limit = Infinity): Promise<HistoryRead> {
    // Not a durable topic (e.g. `cron`): nothing stored, nothing for the tail to catch up on.
    if (!this.#positions.has(topic)) return { entries: [], recovered: true };
    const key = this.#key(topic);
    const range = ["XRANGE", key, since === undefined ? "-" : `(${since}`, "+"];
    if (Number.isFinite(limit)) range.push("COUNT", String(Math.max(0, Math.floor(limit))));
    let raw: RawEntry[];
    let info: unknown;
    try {
      const [r, i] = await Promise.all([
        this.#client.sendCommand<RawEntry[]>(range),
        this.#client.sendCommand<unknown>(["XINFO", "STREAM", key]).catch((error: unknown) => {
          if (isNoSuchKey(error)) return undefined;
          throw error;
        }),
      ]);
      raw = r ?? [];
      info = i;
    } catch (error) {
      throw new LogUnavailableError(`reading redis stream ${key}: ${(error as Error).message}`, "unavailable", { cause: error });
    }
    const entries: LogEntry[] = [];
    for (const item of raw) {
      const entry = toEntry(topic, item);
      if (entry) entries.push(entry);
    }
    if (!info) return { entries, recovered: true };
    const tip = String(infoField(info, "last-generated-id") ?? "0-0");
    return { entries, recovered: since === undefined || recoveredSince(info, since, this.#opts.historySize), tip };
  }

  tail(listener: TailListener): () => void {
    return this.#listeners.add(listener);
  }

  onGap(listener: (topic: string) => void): () => void {
    this.#gapListeners.add(listener);
    return () => this.#gapListeners.delete(listener);
  }

  lastDelivered(topic: string): string | undefined {
    return this.#positions.get(topic);
  }

  healthy(): boolean {
    return !this.#stopping && this.#client.isReady && this.#tailerUp;
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#listeners.clear();
    // Destroying the connection rejects the pending XREAD at once instead of waiting out BLOCK.
    this.#tailClient?.destroy();
    await this.#loop;
  }

  #key(topic: string): string {
    return `${this.#opts.prefix}:${topic}`;
  }

  /** The stream's last generated id (`$` resolved), `0-0` when it does not exist yet. */
  async #streamEnd(topic: string): Promise<string> {
    try {
      const info = await this.#client.sendCommand<unknown>(["XINFO", "STREAM", this.#key(topic)]);
      return String(infoField(info, "last-generated-id") ?? "0-0");
    } catch (error) {
      if (isNoSuchKey(error)) return "0-0";
      throw error;
    }
  }

  /** Never throws: errors are logged once per outage and the loop waits for the connection. */
  async #tailLoop(tail: Redis): Promise<void> {
    const topics = this.#opts.topics;
    const keys = topics.map((t) => this.#key(t));
    let failing = false;
    while (!this.#stopping) {
      if (!tail.isReady) {
        this.#tailerUp = false;
        await waitReady(tail, this.#isStopping);
        continue;
      }
      try {
        const ids = topics.map((t) => this.#positions.get(t)!);
        const reply = await tail.sendCommand<unknown>([
          "XREAD",
          "COUNT",
          String(this.#opts.readCount),
          "BLOCK",
          String(this.#opts.blockMs),
          "STREAMS",
          ...keys,
          ...ids,
        ]);
        if (failing) this.#opts.log.info({ positions: Object.fromEntries(this.#positions) }, "redis tailer resumed");
        failing = false;
        this.#tailerUp = true;
        const streams = streamsOf(reply);
        this.#deliver(streams, keys);
        await checkTailGaps(this.#gapCheck, streams, keys, ids);
      } catch (error) {
        if (this.#stopping) break;
        this.#tailerUp = false;
        if (!failing) this.#opts.log.warn({ err: (error as Error).message }, "redis tailer read failed; resuming from the last delivered ids");
        failing = true;
        await waitReady(tail, this.#isStopping, 200);
      }
    }
    this.#tailerUp = false;
  }

  #deliver(reply: [string, RawEntry[]][], keys: string[]): void {
    // One XREAD answers stream by stream; deliver in id order across them, so that a client
    // following several topics with one resume offset (SSE Last-Event-ID) sees ids only increase.
    const batch: [string, RawEntry][] = [];
    for (const [key, items] of reply) {
      const topic = this.#opts.topics[keys.indexOf(key)];
      if (topic !== undefined) for (const item of items) batch.push([topic, item]);
    }
    if (reply.length > 1) batch.sort((a, b) => compareSeq(a[1][0], b[1][0]));
    for (const [topic, item] of batch) {
      // Advance first: a listener that throws must not make the tailer read the entry again.
      this.#positions.set(topic, item[0]);
      const entry = toEntry(topic, item);
      if (!entry) {
        this.#opts.log.warn({ topic, seq: item[0] }, "skipping a stream entry without a JSON `d` field");
        continue;
      }
      this.#listeners.emit(entry);
    }
  }
}
