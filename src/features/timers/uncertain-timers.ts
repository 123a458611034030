/**
 * Timers whose last write had an unknown outcome (the database did not answer in time). Such a
 * timer leaves the map, so that no answer shows a state that may be wrong, and is read again on
 * every tick until the database answers: a write that committed late comes back with its event
 * too, but one that never committed sends nothing, and without this read the timer would stay
 * out of the map (never listed, ticked or expired) until a restart.
 * @module
 */

export class UncertainTimers {
  readonly #timers: { delete(id: number): unknown };
  readonly #reread: (id: number) => Promise<void>;
  /** Id → how many times it was marked; a read settles it only if no mark came during the read. */
  readonly #marks = new Map<number, number>();
  readonly #reading = new Set<number>();

  /**
   * `timers` is the map; `reread` reads a timer from the database into it (or removes it), and
   * rejects while the database does not answer.
   */
  constructor(timers: { delete(id: number): unknown }, reread: (id: number) => Promise<void>) {
    this.#timers = timers;
    this.#reread = reread;
  }

  /** The write to `id` had an unknown outcome: out of the map until a read settles it. */
  mark(id: number): void {
    this.#timers.delete(id);
    this.#marks.set(id, (this.#marks.get(id) ?? 0) + 1);
  }

  /** Whether the last write to `id` had an unknown outcome not yet settled by a read. */
  has(id: number): boolean {
    return this.#marks.has(id);
  }

  /** Starts one read per uncertain timer not being read already (called on every tick). */
  settle(): void {
    for (const [id, marks] of this.#marks) {
      if (this.#reading.has(id)) continue;
      this.#reading.add(id);
      this.#reread(id)
        .then(
          () => this.#marks.get(id) === marks && this.#marks.delete(id),
          () => {}, // still unreachable: read again on the next tick
        )
        .finally(() => this.#reading.delete(id));
    }
  }
}
