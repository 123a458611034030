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

/** The real clock. `performance.timeOrigin + performance.now()` is monotonic within the process
 * and sub-millisecond, which is what the ticker's lateness histogram needs. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
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
