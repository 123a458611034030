/**
 * The per-topic append-only log that makes durable topics replayable. Two implementations share
 * this contract: {@link MemoryTopicLog} (embedded mode) and the Redis Streams log (`REDIS_URL`).
 *
 * Delivery goes through the log in both modes: `append` stores the entry and the log hands it to
 * its `tail` listeners, in log order, exactly once per instance. With Redis the tailer sees
 * entries appended by every instance, which is what makes N instances act as one.
 * @module
 */

/**
 * A stored event. `json` is the body's JSON text exactly as stored, so that no entry is parsed
 * and serialized again on its way to a frame; `body` holds the seed's fields (parsed from `json`
 * on first use when the entry was read back from Redis). The frame adds `topic`, `seq` and `ts`.
 */
export interface LogEntry {
  readonly topic: string;
  readonly seq: string;
  readonly ts: number;
  readonly json: string;
  readonly body: Record<string, unknown>;
  /** The epoch of the history this entry belongs to (see {@link TopicLog.epoch}). */
  readonly epoch?: string | undefined;
}

/** A {@link LogEntry} whose body is parsed from its JSON text only when someone reads it. */
export class StoredEntry implements LogEntry {
  #body: Record<string, unknown> | undefined;

  constructor(
    readonly topic: string,
    readonly seq: string,
    readonly ts: number,
    readonly json: string,
    body?: Record<string, unknown>,
    readonly epoch?: string,
  ) {
    this.#body = body;
  }

  get body(): Record<string, unknown> {
    this.#body ??= JSON.parse(this.json) as Record<string, unknown>;
    return this.#body;
  }
}

/** The result of reading history after an offset. */
export interface HistoryRead {
  entries: LogEntry[];
  /**
   * `false` when events after the requested offset may be missing: evicted from the retained
   * history, or `since` is older than the current epoch (that history may have been lost), so
   * the reader has a gap and must reload its state.
   */
  recovered: boolean;
  /** The epoch of the history read. */
  epoch?: string | undefined;
  /**
   * The log's newest seq for the topic when it was read, if the log knows it. A log whose tail
   * may lag behind its reads (Redis) sets it, so a replay knows how far the tail must get before
   * the reader can switch to live delivery without receiving an entry twice.
   */
  tip?: string;
}

export type TailListener = (entry: LogEntry) => void;

/** Thrown by `append` when the log cannot take the entry right now (queue full, Redis down). */
export class LogUnavailableError extends Error {
  constructor(
    message: string,
    readonly reason: "overloaded" | "unavailable",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "LogUnavailableError";
  }
}

/**
 * Thrown by `append` with a {@link AppendOptions.claim} that lost: the shared counter is already at
 * `current` (or past the value asked), and nothing was stored. The caller claims again above it.
 */
export class ClaimConflictError extends Error {
  constructor(readonly current: number) {
    super(`claim lost: the counter is at ${current}`);
    this.name = "ClaimConflictError";
  }
}

/** A history's identity (see {@link TopicLog.epoch}). */
export interface Epoch {
  id: string;
  /** Every seq of this epoch is at or after it (`<ms>-0` of its creation). */
  start: string;
}

/** Options of one append. */
export interface AppendOptions {
  /**
   * Makes the append idempotent: an entry appended before with the same id is not stored again
   * (the result carries the seq it got then), so a publisher that retries after a crash cannot
   * deliver an event twice. Remembered for a day (Redis) or the last 10 000 ids (in-process).
   */
  eventId?: string;
  /**
   * A shared increasing counter checked atomically with the append (chat ids across instances):
   * the entry is stored only if `value` is above the counter `name`, which then becomes `value`;
   * otherwise nothing is stored and `append` rejects with {@link ClaimConflictError}. So the
   * values of stored entries increase in log order, across every instance. A log only one
   * process writes (memory, SQLite) has nobody to conflict with: it ignores the claim, and the
   * caller's own counter is enough.
   */
  claim?: { name: string; value: number };
}

export interface TopicLog {
  /** Stores `body` on `topic`; resolves with the stored entry once it is durable. */
  append(topic: string, body: Record<string, unknown>, opts?: AppendOptions): Promise<LogEntry>;
  /**
   * Retained entries of `topic` strictly after `since` (all retained when `since` is undefined),
   * oldest first, at most `limit`.
   */
  readAfter(topic: string, since: string | undefined, limit?: number): Promise<HistoryRead>;
  /**
   * What a replay reads first: the entries after `since` from memory, up to what this instance's
   * tail delivered, when the log keeps them there (`undefined`: call `readAfter`). A log whose
   * history lives elsewhere (Redis) implements it so that replays in the window read no store.
   */
  readRecent?(topic: string, since: string | undefined): HistoryRead | undefined;
  /** Registers a listener for every entry appended to any topic, in log order. */
  tail(listener: TailListener): () => void;
  /** The newest seq delivered to tail listeners for `topic` on this instance. */
  lastDelivered(topic: string): string | undefined;
  /**
   * The current epoch of `topic`'s history: an id that changes whenever that history may have
   * been lost (a new stream, a Redis that came back empty, an embedded log that could not be
   * reopened), and the first seq that belongs to it. Seqs are comparable only within an epoch:
   * a reader resuming from a seq older than `start` is told it was not recovered.
   */
  epoch?(topic: string): Epoch | undefined;
  /** Whether the backing store is reachable. */
  healthy(): boolean;
  /**
   * Registers a listener told when tail delivery on `topic` skipped entries (they were trimmed
   * before this instance read them), so live subscribers must resume from their offset. Logs
   * that cannot have gaps (in-process) need not implement it.
   */
  onGap?(listener: (topic: string) => void): () => void;
  stop(): Promise<void>;
}
