/**
 * A partition between tickwire and MariaDB (a blackholed TCP path: nothing passes, no FIN, no
 * RST), then healed. During it, requests answer 503 within `DB_QUERY_TIMEOUT_MS`; the queries
 * given up on must not keep their pool connections (a pool of 10 stuck connections answered
 * 503 for good after the path was back, and `app.stop()` hung on `pool.end()`).
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { DedicatedMariaDb } from "./support/dedicated-mariadb.ts";
import { startServer } from "./support/server.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { until } from "./support/until.ts";
import { api } from "./timers-support.ts";

const maria = new DedicatedMariaDb();
let proxy: TcpProxy;
let app: Tickwire | undefined;

beforeAll(async () => {
  await maria.start();
  proxy = await TcpProxy.start(maria.port);
  app = await startServer({ DATABASE_URL: `mysql://root@127.0.0.1:${proxy.port}/test`, TICK_MS: "100", DB_QUERY_TIMEOUT_MS: "500" });
}, 60_000);
afterAll(async () => {
  // Bounded: without the fix, stop() never resolves.
  await Promise.race([app?.stop().catch(() => {}), Bun.sleep(3000)]);
  proxy?.stop();
  await maria.dispose();
});

it("recovers after a partition to the database heals, and stops gracefully after another", async () => {
  const t = api(app!);
  const created = await t.create("bh", 600);
  expect(created.status).toBe(201);
  // Warm the pool: concurrent reads of timers it does not hold open several connections.
  await Promise.all(Array.from({ length: 30 }, (_, i) => t.get(100000 + i)));
  proxy.blackhole();
  const during = await Promise.all(Array.from({ length: 12 }, (_, i) => t.get(200000 + i)));
  expect(during.map((r) => r.status)).toEqual(Array(12).fill(503));
  proxy.restore();
  const paused = await until(
    async () => {
      const r = await t.pause(created.body.id);
      return r.status === 200 && r;
    },
    { timeoutMs: 10_000, intervalMs: 100, message: "a pause to be answered 200 after the partition healed" },
  );
  expect(paused.body).toMatchObject({ isPaused: true });

  // Another partition, and a shutdown while it lasts: the stuck connections are destroyed.
  await Promise.all(Array.from({ length: 30 }, (_, i) => t.get(300000 + i)));
  proxy.blackhole();
  const again = await Promise.all(Array.from({ length: 12 }, (_, i) => t.get(400000 + i)));
  expect(again.map((r) => r.status)).toEqual(Array(12).fill(503));
  const stopping = app!.stop().then(() => "stopped");
  app = undefined;
  expect(await Promise.race([stopping, Bun.sleep(10_000).then(() => "still stopping after 10 s")])).toBe("stopped");
}, 60_000);
