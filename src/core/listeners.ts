/**
 * A set of listeners called in registration order. One that throws is reported to `onError`
 * and the others still run: a failing subscriber must never stop delivery to the rest.
 * @module
 */
export class Listeners<A extends unknown[]> {
  #set = new Set<(...args: A) => void>();
  #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  get size(): number {
    return this.#set.size;
  }

  /** Adds `listener`; returns its remover. */
  add(listener: (...args: A) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  /** Calls every listener with `args`; errors are reported, never thrown. */
  emit(...args: A): void {
    for (const listener of this.#set) {
      try {
        listener(...args);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  clear(): void {
    this.#set.clear();
  }
}
