/**
 * Per-key serialization: a chain of pending promises per key, so that tasks for one key run one
 * after another, in the order they were queued, while tasks for different keys run concurrently.
 *
 * A task may bound its wait for its turn. Without a bound, while the database hangs each task
 * in the chain waits for every one before it to time out: the k-th of k concurrent changes of
 * one timer was answered after k query timeouts (50 s for the 10th with the default 5 s), and
 * the chain grew with every request. With one, a task whose turn has not come by then is
 * refused at once, and skipped (never run) when its turn comes.
 * @module
 */
import type { Clock } from "../../core/clock.ts";

/** How long a task may wait for its turn, and what it is refused with after that. */
export interface TurnWait {
  ms: number;
  late: () => Error;
}

/**
 * Runs async tasks one at a time per key. A task starts after every task already queued for its
 * key has settled (fulfilled or rejected: a failure does not block the ones behind it), and the
 * chain of a key is dropped once it drains, so idle keys hold no memory.
 */
export class KeyedSerial<K> {
  /** Tail of the chain of pending tasks per key. */
  readonly #chains = new Map<K, Promise<unknown>>();
  readonly #clock: Pick<Clock, "setTimeout" | "clearTimeout">;

  /** `clock` schedules the waits' deadlines (a virtual one in tests). */
  constructor(clock: Pick<Clock, "setTimeout" | "clearTimeout"> = globalThis) {
    this.#clock = clock;
  }

  /**
   * Runs `fn` after every task already queued for `key`; settles as `fn` does. With `wait`, if
   * `fn` has not started within `wait.ms` it rejects with `wait.late()`, and `fn` never runs.
   */
  run<T>(key: K, fn: () => Promise<T>, wait?: TurnWait): Promise<T> {
    const queued = this.#chains.get(key);
    let late = false;
    let deadline: unknown;
    const turn = (queued ?? Promise.resolve()).then(() => {
      this.#clock.clearTimeout(deadline);
      return late ? undefined : fn();
    });
    const tail = turn.catch(() => {});
    this.#chains.set(key, tail);
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    });
    // Nothing before it: its turn is now, no deadline to keep.
    if (!queued || !wait) return turn as Promise<T>;
    const refused = new Promise<never>((_, reject) => {
      deadline = this.#clock.setTimeout(() => {
        late = true;
        reject(wait.late());
      }, wait.ms);
    });
    return Promise.race([turn as Promise<T>, refused]);
  }
}
