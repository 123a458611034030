/**
 * The WebSocket close codes tickwire uses, and what a client should do on each.
 * @module
 */

/** Close codes used across endpoints. */
export const CloseCode = {
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  internal: 1011,
  /** The socket could not take a durable event; reconnect with `since` to lose nothing. */
  overflow: 4008,
  unauthorized: 4401,
  forbidden: 4403,
} as const;
