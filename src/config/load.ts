/**
 * Reading the environment against the field table (`fields.ts`), once at start.
 *
 * A bad value throws {@link ConfigError} naming the variable, the value and what was expected;
 * `main.ts` prints that one line and exits with code 2 before listening.
 * @module
 */
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type Config, type Setting, settings } from "./fields.ts";

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`invalid config: ${variable}=${JSON.stringify(value)}: expected ${expected}`);
    this.name = "ConfigError";
  }
}

/** Reads and validates every setting from `env`. Throws {@link ConfigError} on the first bad one. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [string, Setting<TSchema>][]) {
    const name = setting.env.find((n) => env[n] !== undefined && env[n] !== "");
    const raw = name === undefined ? undefined : env[name]!;
    if (raw === undefined) {
      out[key] = Value.Default(setting.schema, undefined);
      continue;
    }
    const value = setting.parse ? setting.parse(raw) : raw;
    if (!Value.Check(setting.schema, value)) throw new ConfigError(name!, raw, setting.expected);
    out[key] = value;
  }
  const config = out as Config;
  const redisKinds = (["REDIS_URL", "REDIS_SENTINEL", "REDIS_CLUSTER"] as const).filter((n) => env[n] || (n === "REDIS_URL" && env.REDIS_ADDR));
  if (redisKinds.length > 1) {
    throw new ConfigError(
      redisKinds[1]!,
      env[redisKinds[1]!]!,
      `at most one of REDIS_URL (or REDIS_ADDR), REDIS_SENTINEL and REDIS_CLUSTER (${redisKinds.join(" and ")} are set)`,
    );
  }
  if (config.appEnv === "prod" && !authConfigured(config)) {
    throw new ConfigError("JWT_SECRET", "", "a secret (or JWT_PUBLIC_KEY / JWT_JWKS_FILE) when APP_ENV=prod (auth cannot be off in production)");
  }
  return config;
}

/** Whether any token key is configured, which turns auth on. */
export function authConfigured(config: Pick<Config, "jwtSecret" | "jwtPublicKey" | "jwtJwksFile">): boolean {
  return (config.jwtSecret?.length ?? 0) > 0 || !!config.jwtPublicKey || !!config.jwtJwksFile;
}
