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

export async function mintToken(secret: string, { sub, publish = [], subscribe = [], expiresIn = "24h" }: TokenClaims): Promise<string> {
  const exp = typeof expiresIn === "number" ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn;
  return new SignJWT({ publish, subscribe })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
}
