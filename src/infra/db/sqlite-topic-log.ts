/**
 * The durable embedded topic log: chat, relay and timer-event entries in the SQLite file
 * (`topic_log`, `log_epochs`), so restarting the embedded default loses nothing acknowledged.
 *
 * Writes are synchronous `bun:sqlite` statements: an append is one INSERT (plus, now and then,
 * a trim or the topic's first epoch row in the same small transaction), and it is delivered to
 * tail listeners right after, in append order, as {@link MemoryTopicLog} does. Reads never touch
 * the file: each topic keeps its newest `historySize` entries in a ring, filled from the table
 * at construction, and `readAfter` answers from it with the memory log's semantics.
 *
 * One process owns the file's log (the embedded mode is one instance): epochs and row counts
 * are kept in memory and not re-read.
 * @module
 */

import { randomBytes } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import type { Clock } from "../../core/clock.ts";
import { entriesAfter } from "../../core/entries-after.ts";
import { Listeners } from "../../core/listeners.ts";
import { RingBuffer } from "../../core/ring-buffer.ts";
import { compareSeq, formatSeq, parseSeq, pastIssued, SeqGenerator } from "../../core/seq.ts";
import {
  type AppendOptions,
  type Epoch,
  type HistoryRead,
  type LogEntry,
  LogUnavailableError,
  StoredEntry,
  type TailListener,
  type TopicLog,
} from "../../core/topic-log.ts";
import type { SqliteDb } from "./database.ts";
import { logEpochs, topicLog } from "./schema-sqlite.ts";
import { type LogStatements, logStatements, p } from "./sqlite-log-statements.ts";

export interface SqliteTopicLogOptions {
  db: SqliteDb;
  /** Entries retained per topic (`HISTORY_SIZE`); older ones are evicted from the ring and trimmed from the table. */
  historySize: number;
  clock: Clock;
  /** Reports a listener that threw; the log carries on with the next listener. */
  onListenerError?: (error: unknown) => void;
  /**
   * Evicted rows a topic may keep in the table before one DELETE removes them all (default 64):
   * one delete of 64 rows costs far less than 64 deletes of one, and the ring, not the table,
   * answers reads. The table holds at most `historySize + trimEvery + 1` rows per topic.
   */
  trimEvery?: number;
}

interface TopicState {
  entries: RingBuffer<StoredEntry>;
  /**
   * The seq of the newest evicted entry: a reader before it has a gap. Its row stays in the
   * table (trims delete strictly before it, and record the newest they deleted in
   * `log_epochs.trimmed`), so a restart finds it again as the oldest of the `historySize + 1`
   * newest rows.
   */
  evictedUpTo?: string;
  /** Rows of the topic in the table. */
  rows: number;
}

export class SqliteTopicLog implements TopicLog {
  #opts: SqliteTopicLogOptions;
  #trimEvery: number;
  #topics = new Map<string, TopicState>();
  #epochs = new Map<string, Epoch>();
  /**
   * Topics whose epoch is not written yet: the first append writes it. A read alone writes
   * nothing, so clients naming topics that never get an entry cannot grow the file.
   */
  #unstored = new Set<string>();
  #seq: SeqGenerator;
  #listeners: Listeners<[LogEntry]>;
  #sql: LogStatements;

  /** `<ms>-0` of when this log was opened. */
  readonly #openedAt: string;

  constructor(opts: SqliteTopicLogOptions) {
    this.#opts = opts;
    this.#openedAt = formatSeq(Math.floor(opts.clock.now()), 0);
    this.#trimEvery = Math.max(1, opts.trimEvery ?? 64);
    this.#listeners = new Listeners((error) => opts.onListenerError?.(error));
    this.#sql = logStatements(opts.db);
    this.#seq = new SeqGenerator(this.#load());
  }

  async append(topic: string, body: Record<string, unknown>, opts?: AppendOptions): Promise<LogEntry> {
    return this.appendSync(topic, body, opts);
  }

  /** Synchronous append, for callers that need the entry before yielding. */
  appendSync(topic: string, body: Record<string, unknown>, opts?: AppendOptions): LogEntry {
    const now = this.#opts.clock.now();
    const seq = this.#seq.next(now);
    const { ms, n } = parseSeq(seq)!;
    const ts = Math.floor(now);
    const json = JSON.stringify(body);
    const eventId = opts?.eventId ?? null;
    const state = this.#state(topic);
    // A topic's first append starts its epoch at its own seq's millisecond at the latest.
    const epoch = this.#epoch(topic, ms);
    const unstored = this.#unstored.has(topic);
    const evicting = state.entries.isFull ? state.entries.at(0)!.seq : undefined;
    // Rows past `historySize + 1 + trimEvery` are deleted up to the entry this append evicts;
    // the newest of them is the one evicted before it.
    const trimTo = evicting !== undefined && state.rows + 1 > this.#opts.historySize + 1 + this.#trimEvery ? parseSeq(evicting)! : undefined;
    let inserted: boolean;
    try {
      const row = { topic, seq, ms, n, ts, body: json, eventId, epoch: epoch.id };
      if (!unstored && !trimTo) {
        inserted = this.#sql.insert(row);
      } else {
        inserted = this.#opts.db.transaction(() => {
          if (unstored) this.#opts.db.insert(logEpochs).values({ topic, epoch: epoch.id, start: epoch.start }).onConflictDoNothing().run();
          if (!this.#sql.insert(row)) return false;
          if (trimTo) this.#trimBefore(topic, trimTo, state.evictedUpTo!);
          return true;
        });
      }
      this.#unstored.delete(topic);
      if (!inserted) return this.#stored(eventId!);
    } catch (error) {
      throw new LogUnavailableError(`appending to ${topic} in the SQLite log: ${(error as Error)?.message ?? error}`, "unavailable", { cause: error });
    }
    const entry = new StoredEntry(topic, seq, ts, json, body, epoch.id);
    if (evicting !== undefined) state.evictedUpTo = evicting;
    state.entries.push(entry);
    state.rows = trimTo ? state.entries.size + 1 : state.rows + 1;
    this.#listeners.emit(entry);
    return entry;
  }

  async readAfter(topic: string, since: string | undefined, limit = Infinity): Promise<HistoryRead> {
    const state = this.#topics.get(topic);
    // A topic this file never stored: nothing to lose after the log was opened. No epoch is
    // created for it, so clients naming arbitrary topics cannot grow the log's memory.
    // A seq past everything this file issued and past the clock belongs to another history too.
    const issued = since === undefined || !pastIssued(since, this.#seq.last, this.#opts.clock.now());
    if (!state && !this.#epochs.has(topic)) return { entries: [], recovered: issued && (since === undefined || compareSeq(since, this.#openedAt) >= 0) };
    const epoch = this.#epoch(topic);
    // A seq from before the epoch began belongs to a history this file does not hold.
    const inEpoch = issued && (since === undefined || compareSeq(since, epoch.start) >= 0);
    if (!state) return { entries: [], recovered: inEpoch, epoch: epoch.id };
    const recovered = inEpoch && (since === undefined || state.evictedUpTo === undefined || compareSeq(since, state.evictedUpTo) >= 0);
    const entries = entriesAfter(state.entries, since, limit);
    return { entries, recovered, epoch: epoch.id };
  }

  tail(listener: TailListener): () => void {
    return this.#listeners.add(listener);
  }

  lastDelivered(topic: string): string | undefined {
    return this.#topics.get(topic)?.entries.peekLast()?.seq;
  }

  epoch(topic: string): Epoch {
    return this.#epoch(topic);
  }

  healthy(): boolean {
    return true;
  }

  async stop(): Promise<void> {
    this.#listeners.clear();
  }

  /**
   * Fills the rings and epochs from the table, trims what a smaller `historySize` no longer
   * keeps, and returns the newest stored seq so that seqs keep increasing across restarts.
   */
  #load(): string | undefined {
    const { db, historySize } = this.#opts;
    const trimmed = new Map<string, string>();
    for (const row of db.select().from(logEpochs).all()) {
      this.#epochs.set(row.topic, Object.freeze({ id: row.epoch, start: row.start }));
      if (row.trimmed !== null) trimmed.set(row.topic, row.trimmed);
    }
    // The ring's rows, the newest evicted one (the gap marker) and the newest one before it.
    const newest = db
      .select({ seq: topicLog.seq, ts: topicLog.ts, body: topicLog.body, epoch: topicLog.epoch, ms: topicLog.ms, n: topicLog.n })
      .from(topicLog)
      .where(eq(topicLog.topic, p("topic")))
      .orderBy(desc(topicLog.ms), desc(topicLog.n))
      .limit(historySize + 2)
      .prepare();
    const topics = db.selectDistinct({ topic: topicLog.topic }).from(topicLog).all();
    let last: string | undefined;
    db.transaction(() => {
      for (const { topic } of topics) {
        const rows = newest.all({ topic }).reverse();
        const state = this.#state(topic);
        state.evictedUpTo = trimmed.get(topic);
        if (rows.length > historySize) {
          const marker = rows[rows.length - historySize - 1]!;
          if (rows.length > historySize + 1) this.#trimBefore(topic, marker, rows[0]!.seq);
          state.evictedUpTo = marker.seq;
        }
        for (const row of rows.slice(-historySize)) state.entries.push(new StoredEntry(topic, row.seq, row.ts, row.body, undefined, row.epoch));
        state.rows = state.entries.size + (rows.length > historySize ? 1 : 0);
        const newestSeq = state.entries.peekLast()?.seq;
        if (newestSeq !== undefined && (last === undefined || compareSeq(newestSeq, last) > 0)) last = newestSeq;
      }
    });
    return last;
  }

  /** Deletes `topic`'s rows before `before`, `newestDeleted` being the last of them. */
  #trimBefore(topic: string, before: { ms: number; n: number }, newestDeleted: string): void {
    this.#sql.trim.run({ topic, ms: before.ms, n: before.n });
    this.#sql.markTrimmed.run({ topic, trimmed: newestDeleted });
  }

  /** The entry stored before under `eventId`. */
  #stored(eventId: string): LogEntry {
    const row = this.#sql.byEventId.get({ eventId });
    if (!row) throw new Error(`event ${eventId} was neither inserted nor found`);
    return new StoredEntry(row.topic, row.seq, row.ts, row.body, undefined, row.epoch);
  }

  #state(topic: string): TopicState {
    let state = this.#topics.get(topic);
    if (!state) {
      state = { entries: new RingBuffer({ capacity: this.#opts.historySize, overflow: "drop-oldest" }), rows: 0 };
      this.#topics.set(topic, state);
    }
    return state;
  }

  /**
   * `topic`'s epoch, created on first use if it has none (a topic this file has never stored),
   * starting when the file was opened: it has held nothing of the topic since, and an offset from
   * between (another topic's, resuming both) must not read as lost. Never after `startMs` (a first
   * entry's millisecond: the clock may have stepped back since the file was opened).
   */
  #epoch(topic: string, startMs = Math.floor(this.#opts.clock.now())): Epoch {
    let epoch = this.#epochs.get(topic);
    if (!epoch) {
      const start = compareSeq(formatSeq(startMs, 0), this.#openedAt) < 0 ? formatSeq(startMs, 0) : this.#openedAt;
      epoch = Object.freeze({ id: randomBytes(4).toString("hex"), start });
      this.#epochs.set(topic, epoch);
      this.#unstored.add(topic);
    }
    return epoch;
  }
}
