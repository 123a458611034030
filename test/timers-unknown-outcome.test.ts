/**
 * A timer write answered 504 `outcome_unknown` that in fact never committed: the DEDICATED
 * MariaDB is SIGSTOPped under the write, then killed (the stalled transaction dies with it) and
 * started again. The instance took the timer out of its map when the outcome became unknown; no
 * event will ever come to bring it back, so it must read the timer again by itself once the
 * database answers. Before, the timer stayed out of the map until a restart: never listed,
 * ticked or expired (a due timer never sent TIMER_EXPIRE).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { DedicatedMariaDb } from "./support/dedicated-mariadb.ts";
import { type ChildServer, spawnServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api } from "./timers-support.ts";

describe("a timer write whose outcome was unknown and that never committed (dedicated mariadbd)", () => {
  const maria = new DedicatedMariaDb();
  const session = uniquePrefix("unknown");
  let server: ChildServer;
  let gm: WsTestClient;

  beforeAll(async () => {
    await maria.start();
    server = await spawnServer({ DATABASE_URL: maria.url, TICK_MS: "100", DB_QUERY_TIMEOUT_MS: "500" });
    gm = wsClient(wsUrl(server, `/ws/gamemaster/${session}`));
    await gm.opened;
  }, 60_000);
  afterAll(async () => {
    gm?.close();
    maria.cont();
    server?.proc.kill(9);
    await server?.exited;
    await maria.dispose();
  });

  it("is read again once the database answers: listed, and a due one expires", async () => {
    const timers = api(server);
    const due = await timers.create(session, 2);
    const long = await timers.create(session, 600);
    expect([due.status, long.status]).toEqual([201, 201]);
    maria.stop();
    const paused = await timers.pause(long.body.id);
    expect({ status: paused.status, code: paused.body?.error?.code }).toEqual({ status: 504, code: "outcome_unknown" });
    await maria.kill();
    await maria.start();
    // The pause never happened: the timer is back, running; the due one expires (its expiry write
    // may have timed out too, while the database was stopped).
    const listed = await until(
      async () => {
        const { body } = await timers.list(session);
        const states = (body as { id: number; status: string }[]).map((t) => `${t.id}:${t.status}`);
        return states.length === 2 && states.includes(`${long.body.id}:running`) && states.includes(`${due.body.id}:finished`) && states;
      },
      { timeoutMs: 20_000, message: "both timers listed again, the long one running and the due one finished" },
    );
    expect(listed.length).toBe(2);
    await gm.next((f) => f.type === "TIMER_EXPIRE" && f.payload?.id === due.body.id, 10_000);
  }, 60_000);
});
