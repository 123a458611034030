/**
 * Runs jobs one at a time, in the order they came. A job pushed while one runs (the run itself
 * led to it, synchronously) waits until that one has finished, then runs before `push` returns.
 * The hub delivers log entries through one: an in-process log hands an entry back inside
 * `append`, and a delivery may append (an SSE stream closed mid-write announces a presence
 * leave), which must not overtake or cut short the entry being delivered.
 * @module
 */
export class SerialQueue<T> {
  readonly #run: (job: T) => void;
  readonly #onError: (error: unknown) => void;
  #waiting: T[] = [];
  #running = false;

  /** @param onError gets what a job threw; the jobs after it still run. */
  constructor(run: (job: T) => void, onError: (error: unknown) => void) {
    this.#run = run;
    this.#onError = onError;
  }

  push(job: T): void {
    if (this.#running) {
      this.#waiting.push(job);
      return;
    }
    this.#running = true;
    try {
      this.#safely(job);
      // Rarely more than one waits (one delivery's side effects), so `shift` stays cheap.
      while (this.#waiting.length > 0) this.#safely(this.#waiting.shift()!);
    } finally {
      this.#running = false;
    }
  }

  #safely(job: T): void {
    try {
      this.#run(job);
    } catch (error) {
      this.#onError(error);
    }
  }
}
