/**
 * The drift-corrected ticker every periodic event (cron, timer updates) hangs off.
 *
 * Each tick lands on a wall-clock multiple of the period, so every instance of tickwire ticks
 * together and there is no cumulative drift however late the callbacks run: after each tick the
 * next wake-up is computed from the clock, not by adding the period to the last wake-up (which is
 * what a bare `setInterval` does, and why it drifts). A wake-up more than one period late skips the
 * boundaries it missed and counts them; ticks are never bursted to catch up. How early it wakes
 * before each boundary is its {@link WakeMargin} (`ticker-margin.ts`).
 * @module
 */
import type { Clock, TimerHandle } from "./clock.ts";
import { Listeners } from "./listeners.ts";
import { WakeMargin, type WakeMarginOptions } from "./ticker-margin.ts";

/** One tick: the boundary it stands for and how late the callback started. */
export interface Tick {
  /** The wall-clock period boundary, epoch ms, an exact multiple of the period. */
  at: number;
  /** Milliseconds between the boundary and the moment the tick ran. */
  lateness: number;
  /** The next boundary; ephemeral events emitted on this tick expire then. */
  deadline: number;
}

/** The ticker settings; those of its wake-early margin are in {@link WakeMarginOptions}. */
export interface TickerOptions extends WakeMarginOptions {
  /** Period in milliseconds (the `TICK_MS` setting). */
  periodMs: number;
  clock: Clock;
  /**
   * Called on each tick, before the listeners added with {@link Ticker.onTick}. A throw is
   * reported through `onError`, never stops the ticker.
   */
  onTick?: (tick: Tick) => void;
  /** Lateness observer (the metrics histogram). */
  onLateness?: (lateMs: number) => void;
  /** Called with the number of boundaries skipped because the wake-up came too late. */
  onSkip?: (count: number) => void;
  onError?: (error: unknown) => void;
  /**
   * When a wake-up lands this close (ms) before the boundary, wait for it in a tight loop
   * instead of re-arming a timer: a re-armed timer lets other work (a large `publish`) run first
   * and the tick starts late. The loop holds the event loop for at most this long once per
   * period. Default 0 (re-arm only); main.ts turns it on.
   */
  spinMs?: number;
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
  #margin: WakeMargin;
  #listeners: Listeners<[Tick]>;

  constructor(opts: TickerOptions) {
    if (!(opts.periodMs >= 1)) throw new RangeError(`ticker period must be >= 1 ms, got ${opts.periodMs}`);
    this.periodMs = opts.periodMs;
    this.#opts = opts;
    this.#margin = new WakeMargin(opts.clock, opts);
    this.#listeners = new Listeners((error) => opts.onError?.(error));
  }

  /** Adds a listener run on every tick, in registration order; returns its remover. */
  onTick(listener: (tick: Tick) => void): () => void {
    return this.#listeners.add(listener);
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
    this.#margin.open(now);
    this.#schedule(now);
    this.#margin.startProbe(now);
  }

  stop(): void {
    this.#running = false;
    if (this.#handle !== undefined) this.#opts.clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#margin.stop();
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  /** How early to wake before the next boundary: the base, plus the worst recent delay, capped. */
  get wakeEarlyMs(): number {
    return this.#margin.ms;
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

  #wake(): void {
    this.#handle = undefined;
    if (!this.#running) return;
    const { clock, onTick, onLateness, onSkip, onError } = this.#opts;
    let now = clock.now();
    const delay = now - this.#due;
    this.#margin.wokeUp(delay, now);
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
      const tick = { at: boundary, lateness, deadline: boundary + this.periodMs };
      try {
        onTick?.(tick);
      } catch (error) {
        onError?.(error);
      }
      this.#listeners.emit(tick);
    }
    // The probe must not count the time this wake-up itself held the loop (see wakeUpDone).
    const done = clock.now();
    this.#margin.wakeUpDone(done);
    if (this.#running) this.#schedule(done);
  }
}
