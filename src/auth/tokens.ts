/**
 * Minting tokens (for operators' `bun run token` and for tests): HS256 with `sub`, `publish` and
 * `subscribe` topic patterns.
 * @module
 */
import { SignJWT } from "jose";

export interface TokenClaims {
  sub: string;
  publish?: string[];
  subscribe?: string[];
  /** Lifetime, e.g. "1h", "30d", or seconds; default 24 h. */
  expiresIn?: string | number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `"24h"`, `"30d"`, `"90"` (seconds) or a number of seconds, as seconds. */
export function lifetimeSeconds(expiresIn: string | number): number {
  if (typeof expiresIn === "number") return expiresIn;
  const m = /^(\d+)\s*([smhdw]?)$/.exec(expiresIn.trim());
  if (!m) throw new RangeError(`expires: ${JSON.stringify(expiresIn)} is not a lifetime like 90, 15m, 24h or 30d`);
  return Number(m[1]) * UNIT_SECONDS[m[2] || "s"]!;
}

export async function mintToken(secret: string, { sub, publish = [], subscribe = [], expiresIn = "24h" }: TokenClaims): Promise<string> {
  // One clock reading for both claims: jose reads the clock again for a relative expiry, so a
  // second boundary between the two made a 24 h token last 24 h 1 s.
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ publish, subscribe })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSeconds(expiresIn))
    .sign(new TextEncoder().encode(secret));
}
