/**
 * How many timers may exist: `TIMERS_PER_SESSION` in one session, `TIMERS_MAX` in all (every
 * session, every instance). The stores count in the database, inside the insert's transaction
 * and serialized with every other create (`mysql-timer-limits.ts`, `sqlite-timer-store.ts`), so
 * concurrent creates cannot overshoot. A create past a limit is a {@link TimerLimitError}: 429
 * `limit_exceeded` with `Retry-After` (an error frame on the game master socket), counted in
 * `/metrics`. Stopping a timer makes room.
 * @module
 */
import { HttpError } from "../../http/errors.ts";

export type TimerLimitName = "timers_per_session" | "timers_total";

export interface TimerLimits {
  /** Timers one session may have. */
  perSession: number;
  /** Timers there may be in all. */
  total: number;
  /** Called once per refused create (the `tickwire_limit_refusals_total` counter). */
  refused?: (limit: TimerLimitName) => void;
}

/** Timers that exist: in the session of the new one, and in all. */
export interface TimerCounts {
  session: number;
  total: number;
}

/** Seconds a refused client is told to wait: room comes back only when a timer is stopped. */
const RETRY_AFTER_SECONDS = 10;

export class TimerLimitError extends HttpError {
  constructor(
    readonly limit: TimerLimitName,
    message: string,
  ) {
    super(429, "limit_exceeded", message, limit === "timers_per_session" ? "sessionId" : undefined, {
      headers: { "Retry-After": String(RETRY_AFTER_SECONDS) },
    });
    this.name = "TimerLimitError";
  }
}

/** The limit that leaves no room for one more timer, given `counts`; none if there is room. */
export function refusal(limits: TimerLimits, counts: TimerCounts): TimerLimitError | undefined {
  if (counts.session >= limits.perSession) {
    return new TimerLimitError("timers_per_session", `sessionId: a session may have at most ${limits.perSession} timers (TIMERS_PER_SESSION); stop one first`);
  }
  if (counts.total >= limits.total) {
    return new TimerLimitError("timers_total", `there may be at most ${limits.total} timers in all (TIMERS_MAX); stop one first`);
  }
  return undefined;
}
