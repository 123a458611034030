/**
 * Authentication: HS256 JWTs (jose) from `Authorization: Bearer` or `?token=` (WS, SSE). Claims:
 * `sub`, `publish` and `subscribe` (lists of topic patterns, `*` wildcard). Without `JWT_SECRET`
 * auth is off: every request has no principal and every action is allowed.
 * @module
 */
import { errors as joseErrors, jwtVerify } from "jose";
import { HttpError } from "../http/errors.ts";
import { canPublish, canSubscribe } from "./access.ts";
import type { Principal } from "./principal.ts";

export class Auth {
  #key: Uint8Array | undefined;

  constructor(secret: string | readonly string[] | undefined) {
    const first = typeof secret === "string" ? secret : secret?.[0];
    this.#key = first ? new TextEncoder().encode(first) : undefined;
  }

  get enabled(): boolean {
    return this.#key !== undefined;
  }

  /**
   * The principal of `req`, `undefined` when auth is off. Throws 401 for a missing, malformed,
   * badly signed or expired token.
   */
  async principal(req: Request): Promise<Principal | undefined> {
    if (!this.#key) return undefined;
    const header = req.headers.get("authorization");
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : new URL(req.url).searchParams.get("token");
    if (!token) throw new HttpError(401, "unauthorized", "token: missing; send Authorization: Bearer <jwt> or ?token=", "token");
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: ["HS256"] });
      const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : []);
      return { sub: typeof payload.sub === "string" ? payload.sub : "", publish: list(payload.publish), subscribe: list(payload.subscribe) };
    } catch (error) {
      const why = error instanceof joseErrors.JWTExpired ? "expired" : "invalid or wrongly signed";
      throw new HttpError(401, "unauthorized", `token: ${why}`, "token");
    }
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
