/**
 * The one failure of a leased MySQL query (`mysql-lease.ts`) that callers tell apart: it ran
 * out of time. Its own module: it is all the timers store needs of the lease.
 * @module
 */

/** The lease ran out: `sent` tells whether the work had been given a connection (and may have sent something). */
export class LeaseTimeoutError extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
  ) {
    super(message);
    this.name = "LeaseTimeoutError";
  }
}
