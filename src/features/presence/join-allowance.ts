/**
 * How many joins one client may have announced (appended to the shared `presence` log): a token
 * bucket per token subject (`sub`), `perSecond` on average and `burst` at once. Every way of
 * joining goes through it (in-band `subscribe`, `?topics=` on `/ws`, `/events`, the timer and
 * relay sockets), and reconnecting does not refill it, so a client that reconnects in a loop
 * cannot flood the log or push other topics' joins and leaves out of its retained history.
 * Anonymous members (auth off: development only) share one bucket, as they share one
 * `IDEMPOTENCY_KEYS_PER_SUB` allowance: presence does not know their address.
 * @module
 */

/** Announced joins one token subject may make a second, on average (`docs/operations.md`, "Limits"). */
export const PRESENCE_JOINS_PER_SECOND = 5;
/** Announced joins one token subject may make at once: a connection naming 128 announced topics (`MAX_TOPICS_PER_CONNECTION`'s default). */
export const PRESENCE_JOIN_BURST = 128;
/** Subjects whose bucket is kept; past it the least recently used one goes (it has refilled by then, or nearly). */
const MAX_SUBJECTS = 10_000;
/** The one bucket of members without a `sub`. */
const ANONYMOUS = "\0anonymous";

export interface JoinAllowanceOptions {
  perSecond: number;
  burst: number;
  now: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class JoinAllowance {
  readonly #o: JoinAllowanceOptions;
  /** In order of last use (a use moves its subject to the end). */
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: JoinAllowanceOptions) {
    this.#o = opts;
  }

  /** Takes one announced join from the allowance of `sub` (`undefined`: anonymous); whether there was one. */
  take(sub: string | undefined): boolean {
    const key = sub ?? ANONYMOUS;
    const now = this.#o.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#o.burst, at: now };
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > MAX_SUBJECTS) this.#buckets.delete(this.#buckets.keys().next().value!);
    bucket.tokens = Math.min(this.#o.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.#o.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Subjects with a bucket (bounded by `MAX_SUBJECTS`). */
  get size(): number {
    return this.#buckets.size;
  }
}
