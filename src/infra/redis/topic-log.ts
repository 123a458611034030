/**
 * The Redis Streams topic log (`REDIS_URL`): one stream per durable root topic, appended to by
 * `append-script.ts`, followed by one tailer per instance (`XREAD BLOCK` on its own connection)
 * that hands every entry, from any instance, to the hub in stream order. An instance's own
 * entries usually skip the tailer: see `#deliverIfNext`.
 * @module
 */
import { Listeners } from "../../core/listeners.ts";
import { RecentEntries } from "../../core/recent-entries.ts";
import { compareSeq } from "../../core/seq.ts";
import {
  type AppendOptions,
  ClaimConflictError,
  type Epoch,
  type HistoryRead,
  type LogEntry,
  LogUnavailableError,
  StoredEntry,
  type TailListener,
  type TopicLog,
} from "../../core/topic-log.ts";
import { appendCommand, defaultMaxInFlight, sendAppend } from "./append-script.ts";
import type { Redis } from "./client.ts";
import { EpochWatch } from "./epochs.ts";
import { checkAfterReconnect, type FailoverCheck } from "./failover-check.ts";
import { checkEmptied, checkPredecessor, checkTailGaps, confirmEmptied, type TailGapCheck } from "./gap-check.ts";
import { type HistorySource, readHistory, streamStart } from "./history-read.ts";
import { readFromWindow } from "./recent-read.ts";
import { ReplicaWait } from "./replica-wait.ts";
import { inIdOrder, type RawEntry, streamsOf, toEntry, xreadCommand } from "./stream-replies.ts";
import { openTailConnection } from "./tail-connection.ts";
import type { RedisTopicLogOptions } from "./topic-log-options.ts";
import { waitReady } from "./wait-ready.ts";
import { watchTrims } from "./window-check.ts";

export type { RedisTopicLogOptions } from "./topic-log-options.ts";

/** A read answered this much (ms) after its block time ended followed a stalled connection. */
const STALL_MARGIN_MS = 1000;
export class RedisTopicLog implements TopicLog {
  #opts: Required<Omit<RedisTopicLogOptions, "client" | "onHistoryRead">>;
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
  readonly #recent: RecentEntries;
  readonly #epochs: EpochWatch;
  readonly #history: HistorySource;
  readonly #onHistoryRead: RedisTopicLogOptions["onHistoryRead"];
  #mustVerify = false; // a connection dropped: check what Redis kept before reading on (it may be new)
  /** Command-connection drops not yet covered by a check (a failover?): no appends while > 0. */
  #held = 0;
  #unwatch: (() => void) | undefined;
  /** The tailed streams' keys, in the order of `topics` (the append script reads their tips). */
  readonly #streamKeys: string[];
  /** `REDIS_MIN_REPLICAS > 0`: appends are answered once replicated. */
  readonly #replicas: ReplicaWait | undefined;
  /** Newest id acknowledged per topic, checked against the streams after a reconnect. */
  readonly #acked = new Map<string, string>();
  readonly #failoverCheck: FailoverCheck;

  constructor(opts: RedisTopicLogOptions) {
    this.#client = opts.client;
    this.#opts = { maxInFlight: defaultMaxInFlight(opts.historySize), blockMs: 2000, readCount: 1000, minReplicas: 0, waitTimeoutMs: 1000, ...opts };
    this.#listeners = new Listeners((error) => this.#opts.log.error({ err: error }, "topic log listener failed"));
    const { topics, readCount, historySize, log } = this.#opts;
    const [client, gapListeners, positions] = [this.#client, this.#gapListeners, this.#positions];
    this.#gapCheck = { client, topics, readCount, historySize, log, gapListeners, reported: new Map(), positions, round: 0, emptied: new Map() };
    this.#recent = new RecentEntries(historySize);
    // Before the hub hears of a gap: the window would hold both sides of it and answer a resume
    // from before it, recovered, without the trimmed entries.
    this.#gapListeners.add((topic) => this.#recent.reset(topic));
    this.#epochs = new EpochWatch(this.#client, this.#opts.prefix);
    this.#onHistoryRead = opts.onHistoryRead;
    this.#streamKeys = topics.map((t) => this.#key(t));
    this.#history = { client, prefix: this.#opts.prefix, historySize, keys: this.#streamKeys, onRead: () => this.#onHistoryRead?.("redis") };
    const { minReplicas, waitTimeoutMs, prefix } = this.#opts;
    this.#replicas = minReplicas > 0 ? new ReplicaWait({ client, replicas: minReplicas, timeoutMs: waitTimeoutMs, route: this.#streamKeys[0]! }) : undefined;
    const [acked, epochs, recent] = [this.#acked, this.#epochs, this.#recent];
    this.#failoverCheck = { client, prefix, topics, epochs, positions, acked, minReplicas, recent, log };
    this.#client.on("error", () => (this.#mustVerify = ++this.#held > 0));
  }

  /** Appends waiting for Redis (reported as a queue depth). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves each stream's current end, then starts the tailer. Call once, before traffic. */
  async start(): Promise<void> {
    const { prefix, blockMs, log } = this.#opts;
    const onDown = () => (this.#tailerUp = false);
    const tailer = { client: this.#client, name: `${prefix}-tailer`, blockMs, log, onDown, stopping: this.#isStopping };
    const tail = (this.#tailClient = await openTailConnection(tailer));
    await this.#epochs.refresh(this.#opts.topics, true);
    await Promise.all(this.#opts.topics.map((topic) => this.#startTopic(topic)));
    this.#tailerUp = true;
    this.#unwatch = watchTrims(this.#client, this.#opts.prefix, this.#opts.topics, this.#recent, this.#epochs, {
      replaced: (t) => this.#historyReplaced(t),
      info: (t, info) => checkEmptied(this.#gapCheck, t, info),
    });
    this.#loop = this.#tailLoop(tail);
  }

  async append(topic: string, body: Record<string, unknown>, opts?: AppendOptions): Promise<LogEntry> {
    if (!this.#positions.has(topic)) throw new Error(`topic ${topic} is not a durable root topic of this log (${this.#opts.topics.join(", ")})`);
    if (!this.accepting) throw new LogUnavailableError("redis is unreachable; retry shortly", "unavailable");
    if (this.#inFlight >= this.#opts.maxInFlight) {
      throw new LogUnavailableError(`append queue full (${this.#opts.maxInFlight} waiting for redis); retry shortly`, "overloaded");
    }
    this.#inFlight++;
    const ts = Math.floor(this.#opts.clock.now());
    const json = JSON.stringify(body);
    const args = appendCommand({ prefix: this.#opts.prefix, topic, tailed: this.#streamKeys, opts, historySize: this.#opts.historySize, json, ts });
    let reply: string[];
    try {
      const send = () => sendAppend(this.#client, args);
      reply = await (this.#replicas?.written(send) ?? send());
    } catch (error) {
      if (error instanceof LogUnavailableError) throw error;
      // A timed-out XADD may still have been stored: the caller answers 503 and may retry, which
      // can duplicate but never loses an entry it was told was stored.
      throw new LogUnavailableError(`redis append on ${topic} failed: ${(error as Error).message}`, "unavailable", { cause: error });
    } finally {
      this.#inFlight--;
    }
    if (reply[0] === "") throw new ClaimConflictError(Number(reply[2]));
    const entry = new StoredEntry(topic, reply[0]!, ts, json, body, reply[1]);
    if (compareSeq(entry.seq, this.#acked.get(topic) ?? "0-0") > 0) this.#acked.set(topic, entry.seq);
    // A deduplicated append answers no tips: its entry was delivered (or will be) already.
    if (reply.length > 2) this.#deliverIfNext(entry, reply);
    return entry;
  }

  /**
   * Local delivery: hands an entry this instance just appended (and, with `minReplicas`, got
   * replicated) to its listeners at once instead of when the tailer reads it back (issue #18),
   * only when that is exactly what the tailer would do next: every tailed stream's tip before this
   * append (`reply[2..]`, read atomically with the XADD) is what this instance delivered there.
   * The tailer skips entries at or before its position, so none is delivered twice.
   */
  #deliverIfNext(entry: StoredEntry, reply: string[]): void {
    if (!this.#tailerUp || this.#mustVerify || this.#stopping) return;
    const topics = this.#opts.topics;
    for (let i = 0; i < topics.length; i++) if (reply[2 + i] !== this.#positions.get(topics[i]!)) return;
    const known = this.#epochs.get(entry.topic)?.id;
    if (known !== undefined && known !== entry.epoch) return;
    this.#positions.set(entry.topic, entry.seq);
    this.#accept(entry);
  }

  /** A bounded read of Redis (`history-read.ts`), and whether it holds everything after `since`. */
  async readAfter(topic: string, since: string | undefined, limit?: number): Promise<HistoryRead> {
    // Not a durable topic (e.g. `cron`): nothing stored, nothing for the tail to catch up on.
    if (!this.#positions.has(topic)) return { entries: [], recovered: true };
    return readHistory(this.#history, topic, since, limit, this.#positions.get(topic));
  }

  /** From the in-memory window, with no Redis read, when it can answer (`recent-read.ts`). */
  readRecent(topic: string, since: string | undefined): HistoryRead | undefined {
    const epoch = this.#epochs.get(topic);
    if (!epoch || this.#mustVerify) return undefined;
    const read = readFromWindow(this.#recent, epoch, this.#positions, topic, since);
    if (read) this.#onHistoryRead?.("memory");
    return read;
  }

  epoch(topic: string): Epoch | undefined {
    return this.#epochs.get(topic);
  }

  tail(listener: TailListener): () => void {
    return this.#listeners.add(listener);
  }

  onGap(listener: (topic: string) => void): () => void {
    this.#gapListeners.add(listener);
    return () => this.#gapListeners.delete(listener);
  }

  lastDelivered(topic: string): string | undefined {
    return this.#epochs.position(topic, this.#positions.get(topic));
  }

  /** Appends are taken: connected, and not waiting for a check after the connection dropped. */
  get accepting(): boolean {
    return !this.#stopping && this.#held === 0 && this.#client.isReady;
  }

  healthy(): boolean {
    return !this.#stopping && this.#client.isReady && this.#tailerUp;
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#unwatch?.();
    this.#listeners.clear();
    // Destroying the connection rejects the pending XREAD at once instead of waiting out BLOCK.
    this.#tailClient?.destroy();
    await this.#loop;
  }

  #key(topic: string): string {
    return `${this.#opts.prefix}:${topic}`;
  }

  /** The stream's end as the tailer's start, and its newest entries as the window. */
  async #startTopic(topic: string): Promise<void> {
    const { end, untrimmed, newest } = await streamStart(this.#history, topic);
    this.#recent.fill(topic, newest, untrimmed);
    this.#positions.set(topic, end);
  }

  /**
   * The stream's history was replaced (a new epoch: Redis came back empty or older, a lossy
   * failover): the window is stale; live subscribers are reset, told they were not recovered.
   */
  #historyReplaced(topic: string): void {
    this.#recent.reset(topic);
    this.#opts.log.error({ topic, epoch: this.#epochs.get(topic)?.id }, "redis history of this topic was replaced (new epoch): resetting its subscribers");
    for (const listener of this.#gapListeners) listener(topic);
  }

  /** Never throws: errors are logged once per outage and the loop waits for the connection. */
  async #tailLoop(tail: Redis): Promise<void> {
    const topics = this.#opts.topics;
    const keys = topics.map((t) => this.#key(t));
    let failing = false;
    while (!this.#stopping) {
      if (!tail.isReady) {
        this.#tailerUp = false;
        this.#mustVerify = true;
        await waitReady(tail, this.#isStopping);
        continue;
      }
      try {
        if (this.#mustVerify) {
          const drops = this.#held; // a drop during the check (reads from the old master?) needs another
          for (const topic of await checkAfterReconnect(this.#failoverCheck)) this.#historyReplaced(topic);
          this.#mustVerify = (this.#held -= drops) > 0;
        }
        const ids = topics.map((t) => this.#positions.get(t)!);
        const [started, round] = [performance.now(), ++this.#gapCheck.round];
        const reply = await tail.sendCommand<unknown>(xreadCommand(this.#opts.readCount, this.#opts.blockMs, keys, ids));
        const resumed = failing || performance.now() - started > this.#opts.blockMs + STALL_MARGIN_MS; // after a failure or stall, check for trims
        if (failing) this.#opts.log.info({ positions: Object.fromEntries(this.#positions) }, "redis tailer resumed");
        failing = false;
        this.#tailerUp = true;
        const streams = streamsOf(reply);
        // Gaps first: a subscriber reset for one must hold an offset from before it (else "recovered").
        await checkTailGaps(this.#gapCheck, streams, keys, ids, resumed);
        this.#deliver(streams, keys);
        confirmEmptied(this.#gapCheck, round);
      } catch (error) {
        if (this.#stopping) break;
        this.#tailerUp = false;
        if (!failing) this.#opts.log.warn({ err: (error as Error).message }, "redis tailer read failed; resuming from the last delivered ids");
        failing = true;
        this.#mustVerify = true;
        await waitReady(tail, this.#isStopping, 200);
      }
    }
    this.#tailerUp = false;
  }

  #deliver(reply: [string, RawEntry[]][], keys: string[]): void {
    for (const [topic, item] of inIdOrder(reply, keys, this.#opts.topics, this.#opts.readCount)) {
      // Delivered locally when it was appended (see #deliverIfNext) while this read was pending.
      const position = this.#positions.get(topic)!;
      if (compareSeq(item[0], position) <= 0) continue;
      checkPredecessor(this.#gapCheck, topic, position, item);
      // Advance first: a listener that throws must not make the tailer read the entry again.
      this.#positions.set(topic, item[0]);
      const entry = toEntry(topic, item);
      if (!entry) {
        this.#opts.log.warn({ topic, seq: item[0] }, "skipping a stream entry without a JSON `d` field");
        continue;
      }
      this.#accept(entry);
    }
  }

  /** Delivers `entry`, whose position is already recorded, to the window and the listeners. */
  #accept(entry: LogEntry): void {
    if (this.#epochs.seen(entry.topic, entry.epoch, entry.seq)) this.#historyReplaced(entry.topic);
    this.#recent.push(entry);
    this.#listeners.emit(entry);
  }
}
