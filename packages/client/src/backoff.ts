/**
 * Reconnect delays: exponential, capped, with jitter (each delay is drawn between half and all
 * of the current step), so that a restarted server is not hit by every client at the same
 * instant.
 * @module
 */

export interface BackoffOptions {
  /** First delay (ms). Default 500. */
  initialMs?: number;
  /** Largest delay (ms). Default 10 000. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
}

export class Backoff {
  #step: number;
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;

  constructor(opts: BackoffOptions = {}) {
    this.#initial = opts.initialMs ?? 500;
    this.#max = opts.maxMs ?? 10_000;
    this.#factor = opts.factor ?? 2;
    this.#step = this.#initial;
  }

  /** The delay before the next attempt; each call grows the following one. */
  next(): number {
    const step = this.#step;
    this.#step = Math.min(this.#max, step * this.#factor);
    return step / 2 + Math.random() * (step / 2);
  }

  /** The largest delay (ms): a connection that lasted this long worked, whatever it carried. */
  get maxMs(): number {
    return this.#max;
  }

  /** A connection worked: start again from the first delay. */
  reset(): void {
    this.#step = this.#initial;
  }
}
