/**
 * The {@link Auth} the configuration asks for: its secrets and public keys, `JWT_MAX_TTL`, and
 * the injected clock for expiry.
 * @module
 */
import type { Config } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { Auth } from "./auth.ts";

export function authOf(config: Config, clock: Clock): Promise<Auth> {
  return Auth.create({
    secrets: config.jwtSecret,
    publicKey: config.jwtPublicKey,
    jwksFile: config.jwtJwksFile,
    maxTtlSeconds: config.jwtMaxTtl,
    now: () => clock.now(),
  });
}
