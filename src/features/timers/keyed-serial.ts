/**
 * Per-key serialization: a chain of pending promises per key, so that tasks for one key run one
 * after another, in the order they were queued, while tasks for different keys run concurrently.
 * @module
 */

/**
 * Runs async tasks one at a time per key. A task starts after every task already queued for its
 * key has settled (fulfilled or rejected: a failure does not block the ones behind it), and the
 * chain of a key is dropped once it drains, so idle keys hold no memory.
 */
export class KeyedSerial<K> {
  /** Tail of the chain of pending tasks per key. */
  readonly #chains = new Map<K, Promise<unknown>>();

  /** Runs `fn` after every task already queued for `key`; settles as `fn` does. */
  run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.catch(() => {});
    this.#chains.set(key, tail);
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    });
    return run;
  }
}
