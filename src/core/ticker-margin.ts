/**
 * How early the ticker wakes before each boundary: the wake-early margin.
 *
 * Fixed at `wakeEarlyMs` unless `maxWakeEarlyMs` is above it; then the margin adapts to how late
 * timers have recently fired: a probe timer (every `probeMs`) measures it, the worst delay is
 * remembered for `delayWindowMs`, and the worst delay of the ticker's own last `delayMemory`
 * wake-ups counts too. The {@link Ticker} reports its wake-ups here and reads {@link WakeMargin.ms}
 * each time it schedules one.
 * @module
 */
import type { Clock, TimerHandle } from "./clock.ts";

/** The margin settings, part of `TickerOptions`. */
export interface WakeMarginOptions {
  /**
   * How many ms before a boundary to wake up. Runtime timers have millisecond granularity and
   * tend to fire up to a millisecond late; waking a little early and re-arming for the remainder
   * (a zero-delay timer) lands ticks within a fraction of a millisecond. Default 1.
   */
  wakeEarlyMs?: number;
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

export class WakeMargin {
  #clock: Clock;
  #opts: WakeMarginOptions;
  #probe: TimerHandle | undefined;
  #probing = false;
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

  constructor(clock: Clock, opts: WakeMarginOptions) {
    this.#clock = clock;
    this.#opts = opts;
  }

  /** Whether the margin adapts to timer delays (`maxWakeEarlyMs` above `wakeEarlyMs`). */
  get adaptive(): boolean {
    return (this.#opts.maxWakeEarlyMs ?? 0) > (this.#opts.wakeEarlyMs ?? 1);
  }

  /** How early to wake before the next boundary: the base, plus the worst recent delay, capped. */
  get ms(): number {
    const base = this.#opts.wakeEarlyMs ?? 1;
    if (!this.adaptive) return base;
    return Math.min(this.#opts.maxWakeEarlyMs!, base + this.#worstDelay(this.#clock.now()));
  }

  /** Starts the delay window at `now` (the ticker starting). */
  open(now: number): void {
    this.#sliceStart = now;
  }

  /** Starts the probe timer, when the margin is adaptive. */
  startProbe(now: number): void {
    if (!this.adaptive) return;
    this.#probing = true;
    this.#armProbe(now);
  }

  stop(): void {
    this.#probing = false;
    if (this.#probe !== undefined) this.#clock.clearTimeout(this.#probe);
    this.#probe = undefined;
  }

  /** The ticker's own wake-up came `delay` ms after it was due, at `now`. */
  wokeUp(delay: number, now: number): void {
    this.#observeDelay(delay, now);
    if (delay >= this.#ownWorst || ++this.#ownAge > (this.#opts.delayMemory ?? 60)) {
      this.#ownWorst = Math.max(0, delay);
      this.#ownAge = 0;
    }
  }

  /**
   * The ticker's wake-up finished at `at`. The probe must not count the time a wake-up itself
   * held the loop (the spin, the tick's callbacks): that would raise the margin, lengthen the
   * next spin, and so on up to the cap.
   */
  wakeUpDone(at: number): void {
    this.#ownUntil = at;
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
    for (let i = 0; i < Math.min(steps, this.#delays.length); i++) this.#delays.shift(), this.#delays.push(0);
    this.#sliceStart += steps * slice;
  }

  #observeDelay(delay: number, now: number): void {
    if (!this.adaptive) return;
    this.#rotate(now);
    const last = this.#delays.length - 1;
    if (delay > this.#delays[last]!) this.#delays[last] = delay;
  }

  #armProbe(now: number): void {
    const ms = this.#opts.probeMs ?? 25;
    const due = now + ms;
    this.#probe = this.#clock.setTimeout(() => {
      if (!this.#probing) return;
      const at = this.#clock.now();
      this.#observeDelay(at - Math.max(due, this.#ownUntil), at);
      this.#armProbe(at);
    }, ms);
  }
}
