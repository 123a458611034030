/**
 * Time as the core sees it. Production code uses {@link systemClock}; tests inject a
 * virtual clock so that schedules can be driven without sleeping.
 * @module
 */

/** Something that can be cancelled, returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** A source of wall-clock time plus the one-shot timer the ticker schedules itself with. */
export interface Clock {
  /** Epoch milliseconds (may be fractional). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Epoch milliseconds, sub-millisecond (what the ticker's lateness histogram needs), never running
 * back, and kept within about a millisecond of the wall clock. `performance.timeOrigin +
 * performance.now()` alone drifts from it by the rate of the machine's oscillator against NTP's
 * (about 10 ppm measured here: 0.9 s a day), so a long-running instance would tick, number its log
 * and count timers off the wall clock every other instance, Redis and MySQL go by. So it runs at
 * the monotonic rate from the wall clock's reading, and when it leaves the millisecond `wall`
 * names: behind it (a step forward, a slow oscillator) it jumps to it; ahead of it (a fast
 * oscillator, or the wall clock stepped back) it slews, running at half the rate until the wall
 * clock has caught up. Never back: the ticker's spin loop, its schedule and the per-second rate
 * windows all assume time moves forward, and a step back of seconds froze them for as long.
 */
export function wallTime(mono: () => number = () => performance.now(), wall: () => number = Date.now): () => number {
  let lastMono = mono();
  let last = wall();
  return () => {
    const m = mono();
    const w = wall();
    const elapsed = Math.max(0, m - lastMono);
    lastMono = m;
    let t = last + elapsed;
    if (t < w) t = w;
    else if (t >= w + 1) t = Math.max(w + 0.999, last + elapsed / 2);
    last = t;
    return t;
  };
}

/** The real clock: {@link wallTime}. */
export const systemClock: Clock = {
  now: wallTime(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The longest delay `setTimeout` takes (about 24.8 days); longer ones fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Runs `fn` once at the epoch-millisecond instant `at` (at once if it has passed), however far
 * away, and returns what cancels it.
 */
export function runAt(clock: Clock, at: number, fn: () => void): () => void {
  let handle: TimerHandle;
  let cancelled = false;
  const arm = () => {
    const delay = at - clock.now();
    if (delay <= 0) return fn();
    handle = clock.setTimeout(() => !cancelled && arm(), Math.min(delay, MAX_DELAY_MS));
  };
  arm();
  return () => {
    cancelled = true;
    clock.clearTimeout(handle);
  };
}
