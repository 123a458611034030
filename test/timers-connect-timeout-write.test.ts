/**
 * ab19829 says a write that was never given a connection was never sent (503). But a
 * write whose lease got its error from the pool's connect (mysql2's `connect ETIMEDOUT` at its
 * 3 s connectTimeout on a dead path, fatal) is classified "lost" and answered 504
 * outcome_unknown, "it may have committed", though no connection ever got past its handshake;
 * and the timer is taken out of the map as uncertain (no longer listed or ticked).
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { DedicatedMariaDb } from "./support/dedicated-mariadb.ts";
import { startServer } from "./support/server.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { api } from "./timers-support.ts";

const maria = new DedicatedMariaDb();
let proxy: TcpProxy;
let app: Tickwire | undefined;

beforeAll(async () => {
  await maria.start();
  proxy = await TcpProxy.start(maria.port);
  // DB_QUERY_TIMEOUT_MS at its default (5000), above mysql2's connectTimeout (3000).
  app = await startServer({ DATABASE_URL: `mysql://root@127.0.0.1:${proxy.port}/test`, TICK_MS: "100" });
}, 60_000);
afterAll(async () => {
  await Promise.race([app?.stop().catch(() => {}), Bun.sleep(3000)]);
  proxy?.stop();
  await maria.dispose();
});

it("a write that never got a connection during a partition is refused 503, not an unknown outcome", async () => {
  const t = api(app!);
  const created = await t.create("ctw", 600);
  expect(created.status).toBe(201);
  proxy.blackhole();
  // Every connection the pool had is used by these reads and destroyed at the query timeout.
  const reads = await Promise.all(Array.from({ length: 12 }, (_, i) => t.get(500000 + i)));
  expect(reads.map((r) => r.status)).toEqual(Array(12).fill(503));
  // The pause's lease has to open a connection: its handshake never completes.
  const paused = await t.pause(created.body.id);
  const listed = ((await t.list("ctw")).body as { id: number }[]).map((x) => x.id);
  expect({ status: paused.status, code: paused.body.error?.code, message: paused.body.error?.message, listed }).toEqual({
    status: 503,
    code: "unavailable",
    message: expect.any(String),
    listed: [created.body.id],
  });
}, 60_000);
