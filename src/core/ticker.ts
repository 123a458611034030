/**
 * The drift-corrected ticker every periodic event (cron, timer updates) hangs off.
 *
 * Each tick lands on a wall-clock multiple of the period, so every instance of tickwire ticks
 * together and there is no cumulative drift however late the callbacks run: after each tick the
 * next wake-up is computed from the clock, not by adding the period to the last wake-up (which is
 * what a bare `setInterval` does, and why it drifts). A wake-up more than one period late skips the
 * boundaries it missed and counts them; ticks are never bursted to catch up.
 * @module
 */
import type { Clock, TimerHandle } from "./clock.ts";

/** One tick: the boundary it stands for and how late the callback started. */
export interface Tick {
  /** The wall-clock period boundary, epoch ms, an exact multiple of the period. */
  at: number;
  /** Milliseconds between the boundary and the moment the tick ran. */
  lateness: number;
  /** The next boundary; ephemeral events emitted on this tick expire then. */
  deadline: number;
}

export interface TickerOptions {
  /** Period in milliseconds (the `TICK_MS` setting). */
  periodMs: number;
  clock: Clock;
  /** Called on each tick. A throw is reported through `onError`, never stops the ticker. */
  onTick: (tick: Tick) => void;
  /** Lateness observer (the metrics histogram). */
  onLateness?: (lateMs: number) => void;
  /** Called with the number of boundaries skipped because the wake-up came too late. */
  onSkip?: (count: number) => void;
  onError?: (error: unknown) => void;
  /**
   * How many ms before a boundary to wake up. Runtime timers have millisecond granularity and
   * tend to fire up to a millisecond late; waking a little early and re-arming for the remainder
   * (a zero-delay timer) lands ticks within a fraction of a millisecond. Default 1.
   */
  wakeEarlyMs?: number;
  /**
   * When a wake-up lands this close (ms) before the boundary, wait for it in a tight loop
   * instead of re-arming a timer: a re-armed timer lets other work (a large `publish`) run first
   * and the tick starts late. The loop holds the event loop for at most this long once per
   * period. Default 0 (re-arm only); main.ts turns it on.
   */
  spinMs?: number;
  /**
   * The most the ticker may wake early (ms) when its wake-ups have been coming late. A busy event
   * loop (each fanout to a thousand sockets holds it for several ms in the kernel) starts a timer
   * late by however long the task in progress lasts; with fanouts arriving on a steady beat, the
   * same task covers the same spot before every boundary, so every tick would be late by the same
   * amount. The ticker remembers the worst wake-up delay it has seen recently and wakes that much
   * earlier (still spinning at most `spinMs`), so the wake-up lands before the task that would
   * have delayed it. Default: `wakeEarlyMs` (no adaptation).
   */
  maxWakeEarlyMs?: number;
  /** How many wake-ups the worst recent delay is remembered for. Default 300. */
  delayMemory?: number;
}

export class Ticker {
  readonly periodMs: number;
  #opts: TickerOptions;
  #handle: TimerHandle | undefined;
  #last = -Infinity;
  #running = false;
  #ticks = 0;
  #skipped = 0;
  /** When the pending wake-up was asked to fire (clock ms). */
  #due = 0;
  /** Worst wake-up delay seen recently (ms), and how many wake-ups ago. */
  #worstDelay = 0;
  #worstDelayAge = 0;

  constructor(opts: TickerOptions) {
    if (!(opts.periodMs >= 1)) throw new RangeError(`ticker period must be >= 1 ms, got ${opts.periodMs}`);
    this.periodMs = opts.periodMs;
    this.#opts = opts;
  }

  /** Ticks run so far. */
  get ticks(): number {
    return this.#ticks;
  }

  /** Boundaries skipped because the process woke up more than one period late. */
  get skipped(): number {
    return this.#skipped;
  }

  /** The boundary of the most recent tick, or `undefined` before the first. */
  get lastTickAt(): number | undefined {
    return this.#last === -Infinity ? undefined : this.#last;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const now = this.#opts.clock.now();
    this.#last = Math.floor(now / this.periodMs) * this.periodMs; // the first tick is the next boundary
    this.#schedule(now);
  }

  stop(): void {
    this.#running = false;
    if (this.#handle !== undefined) this.#opts.clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  /** How early to wake before the next boundary: the base, plus the worst recent delay, capped. */
  get wakeEarlyMs(): number {
    const base = this.#opts.wakeEarlyMs ?? 1;
    const max = Math.max(base, this.#opts.maxWakeEarlyMs ?? base);
    return Math.min(max, base + this.#worstDelay);
  }

  #schedule(now: number): void {
    const next = this.#last + this.periodMs;
    // An early wake-up (deliberate or not) makes #wake re-arm for the same boundary.
    const early = this.wakeEarlyMs;
    const delay = next - now;
    const ms = delay > early ? Math.floor(delay - early) : 0;
    this.#due = now + ms;
    this.#handle = this.#opts.clock.setTimeout(() => this.#wake(), ms);
  }

  /** Remembers how late this wake-up came; the worst is kept for `delayMemory` wake-ups. */
  #observeDelay(delay: number): void {
    if (delay >= this.#worstDelay || ++this.#worstDelayAge > (this.#opts.delayMemory ?? 300)) {
      this.#worstDelay = Math.max(0, delay);
      this.#worstDelayAge = 0;
    }
  }

  #wake(): void {
    this.#handle = undefined;
    if (!this.#running) return;
    const { clock, onTick, onLateness, onSkip, onError } = this.#opts;
    let now = clock.now();
    this.#observeDelay(now - this.#due);
    const spin = Math.min(this.#opts.spinMs ?? 0, this.wakeEarlyMs);
    const next = this.#last + this.periodMs;
    if (spin > 0 && now < next && next - now <= spin) {
      while (now < next) now = clock.now();
    }
    const boundary = Math.floor(now / this.periodMs) * this.periodMs;
    if (boundary > this.#last) {
      const missed = Math.round((boundary - this.#last) / this.periodMs) - 1;
      if (missed > 0) {
        this.#skipped += missed;
        onSkip?.(missed);
      }
      this.#last = boundary;
      this.#ticks++;
      const lateness = now - boundary;
      onLateness?.(lateness);
      try {
        onTick({ at: boundary, lateness, deadline: boundary + this.periodMs });
      } catch (error) {
        onError?.(error);
      }
    }
    if (this.#running) this.#schedule(clock.now());
  }
}
