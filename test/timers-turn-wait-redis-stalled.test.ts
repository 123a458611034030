/**
 * With Redis stalled and the database fine, concurrent changes of one timer all answer 2xx
 * (found by review of d313ca4, 2026-12-04): a change held its timer's turn through the hot-state
 * write's command timeout (5 s), so a change queued behind it ran out of its turn wait
 * (DB_QUERY_TIMEOUT_MS) and was refused 503 though the database answered. The hot-state write
 * is now awaited outside the turn. A dedicated redis-server, SIGSTOPped.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { startServer, uniquePrefix } from "./support/server.ts";
import { api } from "./timers-support.ts";

const redis = new DedicatedRedis(freePort());
let app: Tickwire | undefined;
beforeAll(() => redis.start());
afterAll(async () => {
  redis.proc?.kill("SIGCONT");
  await app?.stop();
  await redis.dispose();
});

it("three concurrent changes of one timer all commit while Redis is stalled", async () => {
  app = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: uniquePrefix("turnstall"), TICK_MS: "100" });
  const t = api(app);
  const id = (await t.create("turnstall", 600)).body.id as number;
  redis.proc!.kill("SIGSTOP");
  try {
    const answers = await Promise.all([t.pause(id), t.resume(id), t.pause(id)]);
    expect(answers.map((a) => [a.status, a.body.code ?? a.body.error ?? a.body.status])).toEqual([
      [200, "paused"],
      [200, "running"],
      [200, "paused"],
    ]);
  } finally {
    redis.proc!.kill("SIGCONT");
  }
}, 60_000);
