/**
 * The connection's token: a fixed one, or one fetched from `getToken` whenever the current one
 * is missing or about to expire. The expiry is read from the JWT's payload (`exp`, unverified:
 * only the server checks signatures) so that the client knows when to refresh.
 * @module
 */

export type TokenGetter = () => string | undefined | Promise<string | undefined>;

/** `exp` of a JWT in epoch ms, `undefined` if it has none or is not a JWT. */
export function expiryOf(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4))) as { exp?: unknown };
    return typeof json.exp === "number" ? json.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long before `exp` a token is renewed: a third of its remaining life, at most a minute, so
 * that a 30-second token is refreshed 10 s early and an hour-long one a minute early.
 */
export function refreshLead(exp: number, now: number): number {
  return Math.min(60_000, Math.max(0, (exp - now) / 3));
}

/** A token with less life left than this is not worth connecting with. */
const MIN_LIFE_MS = 2000;

export class TokenSource {
  #token: string | undefined;
  readonly #get: TokenGetter | undefined;
  /** {@link current}'s `getToken` call in flight: its callers meanwhile (SSE streams opening) share it. */
  #joining: Promise<string | undefined> | undefined;

  constructor(token: string | undefined, get: TokenGetter | undefined) {
    this.#token = token;
    this.#get = get;
  }

  /** Whether a new token can be fetched (a fixed token cannot be renewed). */
  get renewable(): boolean {
    return this.#get !== undefined;
  }

  /** The token's expiry (epoch ms), if known. */
  get expiresAt(): number | undefined {
    return this.#token === undefined ? undefined : expiryOf(this.#token);
  }

  /**
   * A token to connect with: the current one, or a fresh one when it is missing or expires
   * within {@link MIN_LIFE_MS} (the connection's refresh timer renews it before `exp` anyway).
   */
  async current(now = Date.now()): Promise<string | undefined> {
    const exp = this.expiresAt;
    if (this.#token !== undefined && (exp === undefined || !this.#get || exp - now > MIN_LIFE_MS)) return this.#token;
    this.#joining ??= this.fresh().finally(() => {
      this.#joining = undefined;
    });
    return this.#joining;
  }

  /**
   * Asks `getToken` for a token that expires later than the current one; `false` if it gave
   * none (the same token, say: a page whose user has not pasted a new one yet).
   */
  async renew(): Promise<boolean> {
    const before = this.expiresAt ?? 0;
    await this.fresh();
    return (this.expiresAt ?? 0) > before;
  }

  /** Always asks `getToken` (when there is one) for a new token (a rejected one is replaced). */
  async fresh(): Promise<string | undefined> {
    if (this.#get) this.#token = (await this.#get()) ?? undefined;
    return this.#token;
  }
}
