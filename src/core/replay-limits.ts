/**
 * Bounds on replays, so that no client can make an instance re-read history without end (a
 * customer token re-subscribing with `since:"0-0"` 2000 times): each token subject (or, with
 * auth off, each connection) may start `rate` replays a second (bursts of `burst`), and an
 * instance runs at most `maxConcurrent` Redis history reads at once. A refused replay fails with {@link ReplayRefusedError}; the client is told its code
 * (`rate_limited`, `replay_busy`) and may retry later.
 * @module
 */

export interface ReplayLimitOptions {
  /** Replays a connection may start per second, on average. */
  rate: number;
  /** Replays a connection may start at once after being idle. */
  burst: number;
  /** Replays in progress at once on this instance. */
  maxConcurrent: number;
  now: () => number;
  /** Counts a refusal by reason. */
  onRefused?: (reason: ReplayRefusedError["code"]) => void;
}

export class ReplayRefusedError extends Error {
  constructor(
    readonly code: "rate_limited" | "replay_busy",
    message: string,
  ) {
    super(message);
    this.name = "ReplayRefusedError";
  }
}

/** A connection's replay allowance: a token bucket. */
export interface ReplayBudget {
  /**
   * Takes `replays` (default 1) from the allowance, at most a whole burst (a resume of many
   * topics at once is one request: it takes the burst, and is possible again once it refilled);
   * throws {@link ReplayRefusedError} when there is not enough.
   */
  take(replays?: number): void;
}

export class ReplayLimits {
  readonly #o: ReplayLimitOptions;
  #active = 0;

  constructor(opts: ReplayLimitOptions) {
    this.#o = opts;
  }

  /** Replays in progress. */
  get active(): number {
    return this.#active;
  }

  #byPrincipal = new Map<string, ReplayBudget>();

  /**
   * A connection's allowance: shared by every connection of the same token subject (`sub`), so
   * reconnecting does not refill it; its own when auth is off.
   */
  budget(sub?: string): ReplayBudget {
    if (sub === undefined) return this.#bucket();
    let budget = this.#byPrincipal.get(sub);
    if (!budget) {
      budget = this.#bucket();
      this.#byPrincipal.set(sub, budget);
      // Bounded: the oldest subject's allowance is forgotten first (it refills anyway).
      if (this.#byPrincipal.size > 10_000) this.#byPrincipal.delete(this.#byPrincipal.keys().next().value!);
    }
    return budget;
  }

  #bucket(): ReplayBudget {
    let tokens = this.#o.burst;
    let at = this.#o.now();
    return {
      take: (replays = 1) => {
        const now = this.#o.now();
        tokens = Math.min(this.#o.burst, tokens + ((now - at) / 1000) * this.#o.rate);
        at = now;
        const cost = Math.min(replays, this.#o.burst);
        if (tokens < cost) throw this.#refuse("rate_limited", `more than ${this.#o.rate} replays a second on this connection; retry shortly`);
        tokens -= cost;
      },
    };
  }

  /** Runs `replay` if fewer than `maxConcurrent` are running. */
  async run<T>(replay: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#o.maxConcurrent)
      throw this.#refuse("replay_busy", `${this.#o.maxConcurrent} replays already in progress on this instance; retry shortly`);
    this.#active++;
    try {
      return await replay();
    } finally {
      this.#active--;
    }
  }

  #refuse(code: ReplayRefusedError["code"], message: string): ReplayRefusedError {
    this.#o.onRefused?.(code);
    return new ReplayRefusedError(code, message);
  }
}
