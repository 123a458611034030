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
