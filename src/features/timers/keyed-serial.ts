/**
 * Per-key serialization: tasks for one key run one after another, in the order they were queued;
 * tasks for different keys run concurrently. A task may bound its wait for its turn: unbounded,
 * while the database hangs, the k-th of k concurrent changes of one timer waited k query
 * timeouts, and the chain grew with every request.
 * @module
 */
import type { Clock } from "../../core/clock.ts";

/** How long a task may wait for its turn, and what it is refused with after that. */
export interface TurnWait {
  ms: number;
  late: () => Error;
}

/**
 * A task starts once every task queued before it for its key has settled (a failure does not
 * block the ones behind it); a key's chain is dropped once it drains.
 */
export class KeyedSerial<K> {
  /** Tail of the chain of pending tasks per key. */
  readonly #chains = new Map<K, Promise<unknown>>();

  /** `clock` schedules the waits' deadlines. */
  constructor(private readonly clock: Pick<Clock, "setTimeout" | "clearTimeout"> = globalThis) {}

  /** Runs `fn` in its turn; with `wait`, not started within `wait.ms` it rejects with `wait.late()` and never runs. */
  run<T>(key: K, fn: () => Promise<T>, wait?: TurnWait): Promise<T> {
    const queued = this.#chains.get(key);
    let late = false;
    let deadline: unknown;
    const turn = (queued ?? Promise.resolve()).then(() => {
      this.clock.clearTimeout(deadline);
      return late ? undefined : fn();
    });
    const tail = turn.catch(() => {});
    this.#chains.set(key, tail);
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    });
    if (!queued || !wait) return turn as Promise<T>;
    const refused = new Promise<never>((_, reject) => {
      deadline = this.clock.setTimeout(() => {
        late = true;
        reject(wait.late());
      }, wait.ms);
    });
    return Promise.race([turn as Promise<T>, refused]);
  }
}
