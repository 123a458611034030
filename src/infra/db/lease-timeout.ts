/**
 * The failures of a leased MySQL query (`mysql-lease.ts`) that callers tell apart: it ran out of
 * time, or it never got a connection. Their own module: all the timers store needs of the lease.
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

/**
 * The pool could not hand out a connection (opening one failed: refused, timed out in its
 * handshake, reset): nothing of the work was sent. mysql2's error is the `cause`.
 */
export class LeaseConnectError extends Error {
  constructor(cause: unknown) {
    super(`no connection: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = "LeaseConnectError";
  }
}
