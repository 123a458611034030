/**
 * Outbox takeover from a writer whose clock runs ahead (found by review, fixed 2026-12-05).
 * Instance A (clock +30 s) commits a pause and cannot publish it (its Redis path is cut). B
 * took over another instance's row only once `now - createdAt >= claimAfterMs` by B's clock:
 * A's row looked 30 s "young" and held back every later row, B's own included. Now a row is also
 * old enough `claimAfterMs` after B first saw it. The shared Redis is untouched (a proxy is cut).
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { systemClock } from "../src/core/clock.ts";
import type { Tickwire } from "../src/main.ts";
import { REDIS_URL, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase } from "./timers-support.ts";

const SKEW_MS = 30_000;
let database: Awaited<ReturnType<typeof ownDatabase>>;
let proxy: TcpProxy;
let a: Tickwire;
let b: Tickwire;

beforeAll(async () => {
  database = await ownDatabase("outboxskew");
  proxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
  const prefix = uniquePrefix("outboxskew");
  const ahead = { now: () => systemClock.now() + SKEW_MS, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
  a = await startServer({ DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, STREAM_PREFIX: prefix, TICK_MS: "100" }, ahead);
  b = await startServer({ DATABASE_URL: database.url, REDIS_URL, STREAM_PREFIX: prefix, TICK_MS: "100" });
}, 60_000);
afterAll(async () => {
  proxy?.restore();
  await Promise.all([a?.stop(), b?.stop()]);
  proxy?.stop();
  await database?.drop();
});

it("B publishes a skewed writer's row and its own change behind it within a few seconds", async () => {
  const session = uniquePrefix("s");
  const gm = wsClient(wsUrl(b, `/ws/gamemaster/${session}`));
  await gm.opened;
  const x = (await api(a).create(session, 600)).body.id as number;
  await gm.next((f) => f.type === "TIMER_CREATE" && f.payload?.id === x, 10_000);
  proxy.cut();
  expect((await api(a).pause(x)).status).toBe(200);
  const y = await api(b).create(session, 600);
  expect(y.status).toBe(201);
  // claimAfterMs (2 s) after B first saw A's row: both go out, in commit order.
  await gm.next((f) => f.type === "TIMER_CREATE" && f.payload?.id === y.body.id, 8_000);
  const order = gm.frames.filter((f: any) => (f?.type === "TIMER_PAUSE" && f.payload?.id === x) || (f?.type === "TIMER_CREATE" && f.payload?.id === y.body.id));
  gm.close();
  expect(order.map((f: any) => f.type)).toEqual(["TIMER_PAUSE", "TIMER_CREATE"]);
}, 60_000);
