/**
 * A timer stopped while Redis is down stays stopped once Redis is back (found by review, fixed
 * 2026-12-05). The stop committed, but its hot-state `remove` failed and was never redone: the
 * stale hash brought the timer back (GET answered 200 and put it back in the map, so the list
 * showed it, and a pause answered 503 instead of 404). A dedicated Redis, killed and restarted.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase } from "./timers-support.ts";

const redis = new DedicatedRedis(freePort(), { persistent: true });
let database: Awaited<ReturnType<typeof ownDatabase>>;
let app: Tickwire;

beforeAll(async () => {
  await redis.start();
  database = await ownDatabase("stopredis");
  app = await startServer({ DATABASE_URL: database.url, REDIS_URL: redis.url, STREAM_PREFIX: uniquePrefix("stopredis"), TICK_MS: "100" });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await redis.dispose();
  await database?.drop();
});

it("a timer stopped while Redis was down stays stopped once Redis is back", async () => {
  const t = api(app);
  const session = uniquePrefix("s");
  const gm = wsClient(wsUrl(app, `/ws/gamemaster/${session}`));
  await gm.opened;
  const id = (await t.create(session, 600)).body.id as number;
  expect((await t.pause(id)).status).toBe(200);
  await gm.next((f) => f.type === "TIMER_PAUSE" && f.payload?.id === id);
  await redis.kill();
  await until(async () => ((await (await fetch(`${app.url}/health`)).json()) as { checks: { redis: string } }).checks.redis === "down", {
    message: "/health to report redis down",
  });
  expect((await t.stop(id)).status).toBe(200);
  await redis.start();
  // The stop's event goes out once Redis is back.
  await gm.next((f) => f.type === "TIMER_STOP" && f.payload?.id === id, 20_000);
  gm.close();
  const shown = await t.get(id);
  const listed = ((await t.list(session)).body as { id: number }[]).map((x) => x.id);
  const paused = await t.pause(id);
  expect({ get: shown.status, listed, pause: paused.status }).toEqual({ get: 404, listed: [], pause: 404 });
}, 60_000);
