/**
 * Authentication: JWTs from `Authorization: Bearer` (scheme matched case-insensitively, RFC 7235)
 * or `?token=` (WS, SSE), verified with jose against every configured key (`keys.ts`). Claims:
 * `sub`, `name`, `publish` and `subscribe` (lists of topic patterns, `*` wildcard), and `exp`,
 * which is required and may lie at most `JWT_MAX_TTL` after `iat`. With no key configured auth is
 * off: every request has no principal and every action is allowed.
 * @module
 */
import { type CryptoKey, decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from "jose";
import { HttpError } from "../http/errors.ts";
import { canPublish, canSubscribe } from "./access.ts";
import { ASYMMETRIC_ALGS, type AsymmetricAlg, type KeySources, loadKeys, type VerificationKeys } from "./keys.ts";
import type { Principal } from "./principal.ts";

export interface AuthOptions extends KeySources {
  /** Longest lifetime (`exp - iat`) accepted, in seconds. */
  maxTtlSeconds?: number;
  /** Epoch milliseconds now (the injected clock). */
  now?: () => number;
}

const unauthorized = (why: string) => new HttpError(401, "unauthorized", `token: ${why}`, "token");

export class Auth {
  readonly #keys: VerificationKeys | undefined;
  readonly #maxTtl: number;
  readonly #now: () => number;

  private constructor(keys: VerificationKeys | undefined, opts: AuthOptions) {
    this.#keys = keys;
    this.#maxTtl = opts.maxTtlSeconds ?? 7 * 86_400;
    this.#now = opts.now ?? Date.now;
  }

  /** Loads the configured keys; auth is off when there are none. */
  static async create(opts: AuthOptions = {}): Promise<Auth> {
    const on = (opts.secrets?.length ?? 0) > 0 || !!opts.publicKey || !!opts.jwksFile;
    return new Auth(on ? await loadKeys(opts) : undefined, opts);
  }

  get enabled(): boolean {
    return this.#keys !== undefined;
  }

  /** The token a request carries: the Bearer header, else `?token=`. */
  static tokenOf(req: Request): string | null {
    const header = req.headers.get("authorization");
    const bearer = header ? /^bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
    return bearer ? bearer[1]! : new URL(req.url).searchParams.get("token");
  }

  /**
   * The principal of `req`, `undefined` when auth is off. Throws 401 for a missing, malformed,
   * badly signed, expired or too long-lived token.
   */
  async principal(req: Request): Promise<Principal | undefined> {
    if (!this.#keys) return undefined;
    const token = Auth.tokenOf(req);
    if (!token) throw unauthorized("missing; send Authorization: Bearer <jwt> or ?token=");
    return this.verify(token);
  }

  /** Verifies one token (as sent in `{"op":"refresh"}` too). Throws 401 when it is not valid. */
  async verify(token: string): Promise<Principal> {
    const keys = this.#keys;
    if (!keys) throw unauthorized("auth is off");
    let payload: JWTPayload;
    try {
      payload = await this.#verified(keys, token);
    } catch (error) {
      if (error instanceof HttpError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw unauthorized("expired");
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "exp") throw unauthorized("no exp claim; tokens must expire");
      throw unauthorized("invalid or wrongly signed");
    }
    const exp = payload.exp!;
    const nowSeconds = Math.floor(this.#now() / 1000);
    if (exp - Math.min(payload.iat ?? nowSeconds, nowSeconds) > this.#maxTtl) {
      throw unauthorized(`lifetime longer than JWT_MAX_TTL (${this.#maxTtl} s)`);
    }
    const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : []);
    // 64 characters at most; a name blank in them names nobody (the sub then does, as for chat's `user`).
    const name = typeof payload.name === "string" ? Array.from(payload.name).slice(0, 64).join("") : "";
    return {
      sub: typeof payload.sub === "string" ? payload.sub : "",
      ...(name.trim() ? { name } : {}),
      publish: list(payload.publish),
      subscribe: list(payload.subscribe),
      exp,
    };
  }

  async #verified(keys: VerificationKeys, token: string): Promise<JWTPayload> {
    const alg = decodeProtectedHeader(token).alg;
    const options = { requiredClaims: ["exp"], currentDate: new Date(this.#now()) };
    if (alg === "HS256") {
      return firstValid(keys.hmac, (key) => jwtVerify(token, key, { ...options, algorithms: ["HS256"] }));
    }
    if (ASYMMETRIC_ALGS.includes(alg as AsymmetricAlg)) {
      const candidates = keys.asymmetric.filter((k) => k.alg === alg).map((k) => k.key);
      const jwks = keys.jwks;
      // jwtVerify takes a key or a key-resolving function alike; the cast only merges the overloads.
      return firstValid([...candidates, ...(jwks ? [jwks] : [])], (key) => jwtVerify(token, key as CryptoKey, { ...options, algorithms: [alg!] }));
    }
    throw unauthorized(`algorithm ${JSON.stringify(alg)} is not accepted`);
  }

  /** Resolves the principal and requires publish permission on `topic` (401 / 403). */
  async requirePublish(req: Request, topic: string): Promise<Principal | undefined> {
    const principal = await this.principal(req);
    if (!canPublish(principal, topic)) throw new HttpError(403, "forbidden", `token: no publish permission on ${topic}`, "token");
    return principal;
  }

  /** Resolves the principal and requires subscribe permission on `topic` (401 / 403). */
  async requireSubscribe(req: Request, topic: string): Promise<Principal | undefined> {
    const principal = await this.principal(req);
    if (!canSubscribe(principal, topic)) throw new HttpError(403, "forbidden", `token: no subscribe permission on ${topic}`, "token");
    return principal;
  }
}

/**
 * The payload of the first key that verifies the token. A wrong signature (or no matching JWKS
 * key) moves on to the next key; any other failure (expired, no `exp`) is the token's, and final.
 */
async function firstValid<K>(keys: readonly K[], verify: (key: K) => Promise<{ payload: JWTPayload }>): Promise<JWTPayload> {
  let last: unknown = unauthorized("no key configured for this algorithm");
  for (const key of keys) {
    try {
      return (await verify(key)).payload;
    } catch (error) {
      if (!(error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      last = error;
    }
  }
  throw last;
}
