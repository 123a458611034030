/**
 * The dependency checks `/health` and `/metrics` report (`db`, `redis`, `redis_persistence`),
 * each bounded in time.
 * @module
 */
import type { AppContext } from "../app/context.ts";

/** Runs every registered check; a check that throws or takes over 1 s counts as down. */
export async function runChecks(ctx: AppContext): Promise<Record<string, "up" | "down" | "off">> {
  const results: Record<string, "up" | "down" | "off"> = {};
  await Promise.all(
    [...ctx.healthChecks].map(async ([name, check]) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1000)));
      try {
        const result = await Promise.race([Promise.resolve(check()), timeout]);
        results[name] = result === "off" ? "off" : result ? "up" : "down";
      } catch {
        results[name] = "down";
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return results;
}
