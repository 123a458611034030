/**
 * A write abandoned at DB_QUERY_TIMEOUT_MS during a partition (ab19829) leaves its
 * transaction open on the server: the client destroyed its socket, but on a dead path the FIN
 * never arrives, so MariaDB keeps the session (wait_timeout, 8 h) and the row lock its UPDATE
 * took. After the path heals every later change of that timer waits on that lock and answers
 * 504 for as long.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { createConnection } from "mysql2/promise";
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
  app = await startServer({ DATABASE_URL: `mysql://root@127.0.0.1:${proxy.port}/test`, TICK_MS: "100", DB_QUERY_TIMEOUT_MS: "2000" });
}, 60_000);
afterAll(async () => {
  await Promise.race([app?.stop().catch(() => {}), Bun.sleep(3000)]);
  proxy?.stop();
  await maria.dispose();
});

it("changes of a timer succeed again once a partition that cut one of its writes has healed", async () => {
  const t = api(app!);
  const created = await t.create("orphan", 600);
  expect(created.status).toBe(201);
  const id = created.body.id as number;

  // Another client holds the row for a moment, so the pause's UPDATE is at the server when the path dies.
  const holder = await createConnection({ host: "127.0.0.1", port: maria.port, user: "root", database: "test" });
  await holder.query("BEGIN");
  await holder.query("SELECT id FROM timers WHERE id = ? FOR UPDATE", [id]);
  let settled: unknown = "pending";
  const cut = t.pause(id).then((r) => ((settled = r), r));
  let seen: unknown;
  await until(
    async () => {
      // The pause's own UPDATE (not the outbox publisher's), waiting for the row.
      seen = await maria.query("SELECT ID, COMMAND, STATE, INFO FROM information_schema.PROCESSLIST WHERE INFO LIKE 'update `timers`%'");
      return (seen as unknown[]).length > 0;
    },
    { message: () => `the pause's UPDATE to wait for the row; pause: ${JSON.stringify(settled)}; processlist: ${JSON.stringify(seen)}` },
  );
  const closes = proxy.clientCloses;
  proxy.blackhole(); // the path dies: the UPDATE's reply (and later the client's FIN) never passes
  await holder.query("COMMIT"); // the pause's UPDATE now runs and locks the row
  await holder.end();
  expect((await cut).status).toBe(504);
  // The lease destroyed its connection while the path was dead: its FIN went nowhere.
  await until(() => proxy.clientCloses > closes, { message: "the pause's connection to close" });
  proxy.restore();

  const statuses: number[] = [];
  const after = await until(
    async () => {
      const r = await t.pause(id);
      statuses.push(r.status);
      return r.status === 200 && r;
    },
    { timeoutMs: 15_000, intervalMs: 100, message: "a pause to be answered 200 after the partition healed" },
  ).catch(async (e: Error) => {
    const trx = await maria.query("SELECT trx_id, trx_state, trx_mysql_thread_id, trx_rows_locked FROM information_schema.INNODB_TRX");
    throw new Error(`${e.message}\npauses answered: ${statuses.join(",")}\nopen transactions on the server: ${JSON.stringify(trx)}`);
  });
  expect(after.body).toMatchObject({ isPaused: true });
}, 60_000);
