/**
 * The embedded topic log: one ring buffer per topic, `HISTORY_SIZE` entries each, evicting the
 * oldest. Appends are delivered to tail listeners synchronously, in the order they were made.
 * @module
 */
import type { Clock } from "./clock.ts";
import { entriesAfter } from "./entries-after.ts";
import { Listeners } from "./listeners.ts";
import { RingBuffer } from "./ring-buffer.ts";
import { compareSeq, pastIssued, SeqGenerator } from "./seq.ts";
import { type AppendOptions, type Epoch, type HistoryRead, type LogEntry, StoredEntry, type TailListener, type TopicLog } from "./topic-log.ts";

/** Event ids remembered for idempotent appends. */
const EVENT_IDS_KEPT = 10_000;

export interface MemoryTopicLogOptions {
  /** Entries retained per topic (`HISTORY_SIZE`); older ones are evicted. */
  historySize: number;
  clock: Clock;
  /** Reports a listener that threw; the log carries on with the next listener. */
  onListenerError?: (error: unknown) => void;
}

interface TopicState {
  entries: RingBuffer<LogEntry>;
  /** The seq of the newest evicted entry: a reader before it has a gap. */
  evictedUpTo?: string;
}

export class MemoryTopicLog implements TopicLog {
  #opts: MemoryTopicLogOptions;
  #topics = new Map<string, TopicState>();
  // One generator for all topics keeps seqs unique process-wide, like stream ids on one clock.
  #seq = new SeqGenerator();
  #listeners: Listeners<[LogEntry]>;
  /**
   * One epoch for every topic, born with the log: its history dies with the process, so a seq
   * from an earlier process (older than `start`) is never taken for recovered.
   */
  readonly #epoch: Epoch;
  /** Entries appended with an event id, newest last (bounded): idempotent appends. */
  #eventIds = new Map<string, LogEntry>();

  constructor(opts: MemoryTopicLogOptions) {
    this.#opts = opts;
    this.#listeners = new Listeners((error) => opts.onListenerError?.(error));
    this.#epoch = { id: randomEpochId(), start: `${Math.floor(opts.clock.now())}-0` };
  }

  async append(topic: string, body: Record<string, unknown>, opts?: AppendOptions): Promise<LogEntry> {
    return this.appendSync(topic, body, opts);
  }

  /** Synchronous append, for callers that need the entry before yielding. */
  appendSync(topic: string, body: Record<string, unknown>, opts?: AppendOptions): LogEntry {
    if (opts?.eventId !== undefined) {
      const seen = this.#eventIds.get(opts.eventId);
      if (seen) return seen;
    }
    const now = this.#opts.clock.now();
    const entry = new StoredEntry(topic, this.#seq.next(now), Math.floor(now), JSON.stringify(body), body, this.#epoch.id);
    const state = this.#state(topic);
    if (state.entries.isFull) state.evictedUpTo = state.entries.at(0)?.seq;
    state.entries.push(entry);
    if (opts?.eventId !== undefined) {
      this.#eventIds.set(opts.eventId, entry);
      if (this.#eventIds.size > EVENT_IDS_KEPT) this.#eventIds.delete(this.#eventIds.keys().next().value!);
    }
    this.#listeners.emit(entry);
    return entry;
  }

  async readAfter(topic: string, since: string | undefined, limit = Infinity): Promise<HistoryRead> {
    const epoch = this.#epoch;
    const current = since === undefined || (compareSeq(since, epoch.start) >= 0 && !pastIssued(since, this.#seq.last, this.#opts.clock.now()));
    const state = this.#topics.get(topic);
    if (!state) return { entries: [], recovered: current, epoch: epoch.id };
    const recovered = current && (since === undefined || state.evictedUpTo === undefined || compareSeq(since, state.evictedUpTo) >= 0);
    const entries = entriesAfter(state.entries, since, limit);
    return { entries, recovered, epoch: epoch.id };
  }

  tail(listener: TailListener): () => void {
    return this.#listeners.add(listener);
  }

  lastDelivered(topic: string): string | undefined {
    return this.#topics.get(topic)?.entries.peekLast()?.seq;
  }

  epoch(): Epoch {
    return this.#epoch;
  }

  healthy(): boolean {
    return true;
  }

  async stop(): Promise<void> {
    this.#listeners.clear();
  }

  #state(topic: string): TopicState {
    let state = this.#topics.get(topic);
    if (!state) {
      state = { entries: new RingBuffer({ capacity: this.#opts.historySize, overflow: "drop-oldest" }) };
      this.#topics.set(topic, state);
    }
    return state;
  }
}

/** 8 random hex characters. */
export function randomEpochId(): string {
  return Math.floor(Math.random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, "0");
}
