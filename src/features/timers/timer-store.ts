/**
 * Where timers are stored for good (MySQL in production, SQLite embedded). One implementation
 * per dialect (`mysql-timer-store.ts`, `sqlite-timer-store.ts`) because Drizzle's types differ;
 * this is the contract the service relies on.
 * @module
 */
import type { TimerState } from "./timer-state.ts";

export interface TimerStore {
  /** Inserts a new timer and returns it with its id. */
  insert(timer: Omit<TimerState, "id">): Promise<TimerState>;
  /**
   * Writes `timer` if the stored row still has `expectedVersion`; `false` if another writer
   * (another instance, or a concurrent request) changed or deleted it first.
   */
  update(timer: TimerState, expectedVersion: number): Promise<boolean>;
  /** Deletes the row; `false` if it was already gone. */
  delete(id: number): Promise<boolean>;
  get(id: number): Promise<TimerState | undefined>;
  all(): Promise<TimerState[]>;
}

/** The database could not be reached: requests answer 503, background loops retry. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
