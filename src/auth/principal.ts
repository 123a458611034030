/**
 * Who is connected and what they may do.
 * @module
 */

/** From a JWT's claims, or absent (everything allowed) when auth is off. */
export interface Principal {
  sub: string;
  /** The `name` claim, when the token has one (the chat author's name). */
  name?: string;
  publish: string[];
  subscribe: string[];
  /** The token's `exp`, epoch seconds: connections opened with it are closed then. */
  exp?: number;
}

/** The name a principal posts under: its `name` claim, else its `sub`. */
export function displayName(principal: Principal): string {
  return principal.name || principal.sub;
}
