/**
 * Configuration from the environment, validated once at start: the public API of `config/`.
 *
 * `fields.ts` declares each setting once (environment names, schema, default, doc); `load.ts`
 * reads and validates them, throwing {@link ConfigError} on a bad value; `urls.ts` resolves the
 * database and Redis URLs, aliases included.
 * @module
 */
export { type Config, settings } from "./fields.ts";
export { authConfigured, ConfigError, loadConfig } from "./load.ts";
export { type RedisNode, type RedisTarget, redisTarget } from "./redis-target.ts";
export { databaseUrl, redisUrl } from "./urls.ts";
