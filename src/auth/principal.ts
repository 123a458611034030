/**
 * Who is connected and what they may do.
 * @module
 */

/** From a JWT's claims, or absent (everything allowed) when auth is off. */
export interface Principal {
  sub: string;
  publish: string[];
  subscribe: string[];
}
