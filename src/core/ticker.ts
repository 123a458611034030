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
import { Listeners } from "./listeners.ts";

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
   * The most the ticker may wake early (ms) when the event loop has recently been busy. A busy
   * loop (each fanout to a thousand sockets holds it for several ms in the kernel) starts a timer
   * late by however long the task in progress lasts; with fanouts arriving on a steady beat, the
   * same task covers the same spot before every boundary, so every tick would be late by the same
   * amount. With this set above `wakeEarlyMs`, a probe timer measures how late timers fire
   * (every `probeMs`), and the ticker wakes as much earlier as the worst delay of the last
   * `delayWindowMs` (or of its own last `delayMemory` wake-ups), then spins to the boundary (at
   * most `spinMs`). The probe keeps measuring while the ticker's own wake-ups are on time, so
   * under a steady load the margin lasts as long as the load does, and a single stall the probe
   * sees (a GC pause) is forgotten after the window. Default: `wakeEarlyMs` (no probe).
   */
  maxWakeEarlyMs?: number;
  /** Period of the delay probe, ms. Default 25. */
  probeMs?: number;
  /** How long a delay the probe saw is remembered, ms. Default 5000. */
  delayWindowMs?: number;
  /**
   * How many of its own wake-ups the ticker remembers its worst wake-up delay for (a blocking
   * task that only ever falls just before the boundary, which the probe may not happen to hit).
   * Default 60.
   */
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
  #probe: TimerHandle | undefined;
  /**
   * Worst timer delay (ms) per slice of the window, newest last; a slice is a fifth of
   * `delayWindowMs`, so the worst delay of the last 4–5 slices is remembered.
   */
  #delays = [0, 0, 0, 0, 0];
  #sliceStart = 0;
  /** Worst delay of the ticker's own wake-ups, and how many wake-ups ago it was seen. */
  #ownWorst = 0;
  #ownAge = 0;
  /** When the last wake-up finished (spin and tick callbacks included). */
  #ownUntil = -Infinity;

  #listeners: Listeners<[Tick]>;

  constructor(opts: TickerOptions) {
    if (!(opts.periodMs >= 1)) throw new RangeError(`ticker period must be >= 1 ms, got ${opts.periodMs}`);
    this.periodMs = opts.periodMs;
    this.#opts = opts;
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
    this.#sliceStart = now;
    this.#schedule(now);
    if (this.#adaptive) this.#armProbe(now);
  }

  stop(): void {
    this.#running = false;
    if (this.#handle !== undefined) this.#opts.clock.clearTimeout(this.#handle);
    if (this.#probe !== undefined) this.#opts.clock.clearTimeout(this.#probe);
    this.#handle = undefined;
    this.#probe = undefined;
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  get #adaptive(): boolean {
    return (this.#opts.maxWakeEarlyMs ?? 0) > (this.#opts.wakeEarlyMs ?? 1);
  }

  /** How early to wake before the next boundary: the base, plus the worst recent delay, capped. */
  get wakeEarlyMs(): number {
    const base = this.#opts.wakeEarlyMs ?? 1;
    if (!this.#adaptive) return base;
    return Math.min(this.#opts.maxWakeEarlyMs!, base + this.#worstDelay(this.#opts.clock.now()));
  }

  /** The worst timer delay of the window ending at `now`. */
  #worstDelay(now: number): number {
    this.#rotate(now);
    return Math.max(this.#ownWorst, ...this.#delays);
  }

  /** Moves the window on to `now`: each whole slice that has passed drops the oldest. */
  #rotate(now: number): void {
    const slice = (this.#opts.delayWindowMs ?? 5000) / this.#delays.length;
    const steps = Math.floor((now - this.#sliceStart) / slice);
    if (steps <= 0) return;
    for (let i = 0; i < Math.min(steps, this.#delays.length); i++) (this.#delays.shift(), this.#delays.push(0));
    this.#sliceStart += steps * slice;
  }

  #observeDelay(delay: number, now: number): void {
    if (!this.#adaptive) return;
    this.#rotate(now);
    const last = this.#delays.length - 1;
    if (delay > this.#delays[last]!) this.#delays[last] = delay;
  }

  #armProbe(now: number): void {
    const ms = this.#opts.probeMs ?? 25;
    const due = now + ms;
    this.#probe = this.#opts.clock.setTimeout(() => {
      if (!this.#running) return;
      const at = this.#opts.clock.now();
      this.#observeDelay(at - Math.max(due, this.#ownUntil), at);
      this.#armProbe(at);
    }, ms);
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
    this.#observeDelay(delay, now);
    if (delay >= this.#ownWorst || ++this.#ownAge > (this.#opts.delayMemory ?? 60)) {
      this.#ownWorst = Math.max(0, delay);
      this.#ownAge = 0;
    }
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
    // The probe must not count the time this wake-up itself held the loop (the spin, the tick's
    // callbacks): that would raise the margin, lengthen the next spin, and so on up to the cap.
    this.#ownUntil = clock.now();
    if (this.#running) this.#schedule(this.#ownUntil);
  }
}
