/**
 * Connection URLs from a loaded {@link Config}: the `DATABASE_DSN` and `REDIS_ADDR` aliases
 * (the seeds' Go-style spellings) resolved to the URLs the database and Redis clients take.
 * @module
 */
import type { Config } from "./fields.ts";

/** The database location after resolving the `DATABASE_DSN` alias. */
export function databaseUrl(config: Config): string {
  if (!config.databaseDsn) return config.databaseUrl;
  const m = /^([^:@]*)(?::([^@]*))?@tcp\(([^)]+)\)\/(\w+)/.exec(config.databaseDsn)!;
  const auth = m[2] ? `${encodeURIComponent(m[1]!)}:${encodeURIComponent(m[2])}` : encodeURIComponent(m[1]!);
  return `mysql://${auth}@${m[3]}/${m[4]}`;
}

/** `REDIS_ADDR`-style `host:port` normalized to a URL. */
export function redisUrl(config: Config): string | undefined {
  const r = config.redisUrl;
  if (!r) return undefined;
  return r.includes("://") ? r : `redis://${r}`;
}
