/**
 * 315d5d8 moved a change's hot-state write out of its timer's turn, but a stop still awaits
 * its hot-state remove inside the turn. With Redis stalled (SIGSTOP) and the database fine, the
 * stop holds the turn through the remove's 5 s command timeout, and a change of the same timer
 * queued behind it runs out of its turn wait (DB_QUERY_TIMEOUT_MS): 503 "nothing changed, retry"
 * instead of the 404 the database would answer (the timer is stopped and deleted).
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { startServer, uniquePrefix } from "./support/server.ts";
import { api, ownDatabase } from "./timers-support.ts";

const redis = new DedicatedRedis(freePort());
let database: Awaited<ReturnType<typeof ownDatabase>>;
let app: Tickwire | undefined;
beforeAll(async () => {
  await redis.start();
  database = await ownDatabase("stopturn");
}, 60_000);
afterAll(async () => {
  redis.proc?.kill("SIGCONT");
  await app?.stop();
  await redis.dispose();
  await database?.drop();
});

it("a change queued behind a stop is answered by the database while Redis is stalled", async () => {
  app = await startServer({
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    STREAM_PREFIX: uniquePrefix("stopturn"),
    TICK_MS: "100",
    DB_QUERY_TIMEOUT_MS: "2000",
  });
  const t = api(app);
  const id = (await t.create("stopturn", 600)).body.id as number;
  redis.proc!.kill("SIGSTOP");
  try {
    const [stopped, paused] = await Promise.all([t.stop(id), t.pause(id)]);
    expect([stopped.status, paused.status, paused.body.error?.code]).toEqual([200, 404, "not_found"]);
  } finally {
    redis.proc!.kill("SIGCONT");
  }
}, 60_000);
