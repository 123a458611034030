/**
 * Closing the MySQL handle while a dead path (a blackholed TCP proxy: no FIN, no RST) holds a
 * query in flight: `pool.end()` waits for that query's connection for good, so `close()`
 * destroys what is still busy after `queryTimeoutMs`.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { openDatabase } from "../src/infra/db/database.ts";
import { DedicatedMariaDb } from "./support/dedicated-mariadb.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";

const maria = new DedicatedMariaDb();
let proxy: TcpProxy;

beforeAll(async () => {
  await maria.start();
  proxy = await TcpProxy.start(maria.port);
}, 60_000);
afterAll(async () => {
  proxy?.stop();
  await maria.dispose();
});

it("close() finishes while a partition holds queries in flight", async () => {
  const db = await openDatabase(`mysql://root@127.0.0.1:${proxy.port}/test`, { queryTimeoutMs: 300 });
  if (db.dialect !== "mysql") throw new Error("mysql expected");
  // Three connections open and idle, for the queries below.
  expect(await Promise.all([db.ping(), db.ping(), db.ping()])).toEqual([true, true, true]);
  proxy.blackhole();
  // Queries on connections taken without a lease: stuck on the dead path for as long as it lasts.
  const conns = await Promise.all([1, 2, 3].map(() => db.pool.promise().getConnection()));
  for (const conn of conns) conn.query("SELECT 1").catch(() => {});
  const closed = db.close().then(() => "closed");
  expect(await Promise.race([closed, Bun.sleep(5000).then(() => "still closing after 5 s")])).toBe("closed");
}, 30_000);
