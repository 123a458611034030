/**
 * Where timers are stored for good (MySQL in production, SQLite embedded), with the outbox of
 * their events and the answers to requests sent with an `Idempotency-Key`. One implementation
 * per dialect (`mysql-timer-store.ts`, `sqlite-timer-store.ts`) because Drizzle's types differ;
 * this is the contract the service relies on.
 *
 * Every write is ONE transaction: the row, its outbox events and, when asked, the stored answer
 * commit together or not at all, so no change can be stored without its events (or the reverse).
 * @module
 */
import type { TimerLimitError, TimerLimits } from "./timer-limits.ts";
import type { TimerEventType, TimerState } from "./timer-state.ts";

/** An event to publish on `timers`, written to the outbox with the change it describes. */
export interface OutboxEvent {
  /** Unique per event: the log appends it once however often it is published. */
  eventId: string;
  timerId: number;
  /** The timer row's version after the change. */
  version: number;
  type: TimerEventType;
  /** The timer view, as JSON text. */
  payload: string;
  /** The instance that wrote it (another takes over rows whose writer stopped publishing). */
  instance: string;
  createdAt: number;
}

export interface OutboxRow extends OutboxEvent {
  /** Commit order, near enough: a later change to the same timer always has a larger id. */
  id: number;
}

/** The answer to store with a change made under an `Idempotency-Key`. */
export interface IdempotentAnswer {
  scope: string;
  key: string;
  /** Whose answer it is (`answerOwner`): the stores bound answers per owner (`answer-cap.ts`). */
  owner: string;
  requestHash: string;
  status: number;
  /** The response body, built from the stored row (a create learns its id only on insert). */
  body: (t: TimerState) => string;
  createdAt: number;
}

export interface StoredAnswer {
  requestHash: string;
  status: number;
  body: string;
}

export interface TimerStore {
  /**
   * Inserts a new timer with the events `events` builds from the stored row (it has its id).
   * With `limits`, first counts the timers in the same transaction, serialized with every other
   * create, and throws a {@link TimerLimitError} (nothing written) if there is no room; a create
   * that already committed under `answer`'s key throws {@link AnswerExistsError} instead.
   */
  insert(timer: Omit<TimerState, "id">, events: (t: TimerState) => OutboxEvent[], answer?: IdempotentAnswer, limits?: TimerLimits): Promise<TimerState>;
  /**
   * Writes `timer` and `events` if the stored row still has `expectedVersion`; `false` (nothing
   * written) if another writer changed or deleted it first.
   */
  update(timer: TimerState, expectedVersion: number, events: OutboxEvent[], answer?: IdempotentAnswer): Promise<boolean>;
  /** Deletes the row if it still has `expectedVersion`, with `events`; `false` otherwise. */
  delete(timer: TimerState, expectedVersion: number, events: OutboxEvent[], answer?: IdempotentAnswer): Promise<boolean>;
  get(id: number): Promise<TimerState | undefined>;
  /**
   * The row as committed once any write to it still in flight has finished (a locking read):
   * what an answer that writes nothing (a change to the state the timer already has) rests on.
   */
  getCurrent(id: number): Promise<TimerState | undefined>;
  /**
   * {@link getCurrent} for a change under an `Idempotency-Key` that writes nothing: in one
   * transaction with that read, stores `answer` if the row still has `timer`'s version, so that a
   * retry gets this answer rather than making the change again after another one.
   */
  keep(timer: TimerState, answer: IdempotentAnswer): Promise<TimerState | undefined>;
  all(): Promise<TimerState[]>;
  /** The oldest unpublished events, in id order. */
  outbox(limit: number): Promise<OutboxRow[]>;
  /** Removes published events. */
  removeOutbox(ids: readonly number[]): Promise<void>;
  /** Unpublished events: how many, and when the oldest was written (epoch ms). */
  outboxStats(): Promise<{ depth: number; oldestAt: number | undefined }>;
  /** The answer stored for `key` in `scope`, if a request with it committed. */
  answer(scope: string, key: string): Promise<StoredAnswer | undefined>;
  /** Forgets answers written before `before` (epoch ms). */
  purgeAnswers(before: number): Promise<void>;
}

/** The database could not be reached: nothing was written; requests answer 503, loops retry. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/**
 * A write was sent but its outcome is unknown (the database stopped answering, or the connection
 * broke mid-transaction): it may still commit. Requests answer 504 `outcome_unknown`; if it
 * commits, its outbox events publish it and every instance picks it up.
 */
export class StoreOutcomeUnknownError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreOutcomeUnknownError";
  }
}

/** Another request with the same `Idempotency-Key` committed first: read its answer. */
export class AnswerExistsError extends Error {
  constructor(
    readonly scope: string,
    readonly key: string,
  ) {
    super(`an answer for ${scope} ${key} is already stored`);
    this.name = "AnswerExistsError";
  }
}
