/**
 * A fixed-capacity FIFO on a preallocated array: O(1) push and shift, no growth.
 * @module
 */

/**
 * What happens when a full buffer is pushed to.
 * - `drop-oldest`: the oldest item is evicted to make room (history logs: newest wins).
 * - `reject`: the push fails and the caller decides (ingest queues: refuse rather than lose).
 */
export type OverflowPolicy = "drop-oldest" | "reject";

export interface RingBufferOptions {
  /** Maximum number of items held; must be a positive integer. */
  capacity: number;
  overflow: OverflowPolicy;
}

export class RingBuffer<T> implements Iterable<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  #items: (T | undefined)[];
  #head = 0; // index of the oldest item
  #size = 0;
  /** How many items were ever evicted by `drop-oldest`; lets callers map absolute positions. */
  #evicted = 0;

  constructor({ capacity, overflow }: RingBufferOptions) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.overflow = overflow;
    // Grown on demand up to `capacity`: thousands of per-timer topic logs must not each
    // preallocate HISTORY_SIZE slots.
    this.#items = [];
  }

  get size(): number {
    return this.#size;
  }

  get isFull(): boolean {
    return this.#size === this.capacity;
  }

  /** Total items evicted so far under `drop-oldest`. */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * Appends an item. Returns `true` if it was stored. Under `reject` a full buffer returns
   * `false` and is unchanged; under `drop-oldest` the oldest item is evicted and `true` returned.
   */
  push(item: T): boolean {
    if (this.#size === this.capacity) {
      if (this.overflow === "reject") return false;
      this.#items[this.#head] = item;
      this.#head = (this.#head + 1) % this.capacity;
      this.#evicted++;
      return true;
    }
    this.#items[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
    return true;
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let the GC have it
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return item;
  }

  /** The item at `index` from the oldest (0) to the newest (size - 1). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#head + index) % this.capacity];
  }

  /** The newest item. */
  peekLast(): T | undefined {
    return this.at(this.#size - 1);
  }

  /** Iterates from position `start` (0 = oldest) to the newest. */
  *from(start = 0): IterableIterator<T> {
    for (let i = Math.max(0, start); i < this.#size; i++) {
      yield this.#items[(this.#head + i) % this.capacity] as T;
    }
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.from(0);
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#size = 0;
  }
}
