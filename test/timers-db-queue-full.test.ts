/**
 * MariaDB SIGSTOPped while requests keep coming: once mysql2's pool queue is full (`queueLimit`
 * 1000) it fails queries with a plain `Error("Queue limit reached.")`, no code. That is a
 * refusal (nothing sent): a create answers 503 and a game master `unavailable`, not 500.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { DedicatedMariaDb } from "./support/dedicated-mariadb.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";
import { api } from "./timers-support.ts";

const maria = new DedicatedMariaDb();
let app: Tickwire;

beforeAll(async () => {
  await maria.start();
  app = await startServer({ DATABASE_URL: maria.url, TICK_MS: "100", DB_QUERY_TIMEOUT_MS: "300", WS_PUBLISHES_PER_SECOND: "100" });
}, 60_000);
afterAll(async () => {
  maria.cont();
  await app?.stop().catch(() => {});
  await maria.dispose();
});

it("answers 503 (not 500) while the database hangs with the pool's queue full", async () => {
  const t = api(app);
  expect((await t.create("q", 600)).status).toBe(201);
  const gm = wsClient(wsUrl(app, "/ws/gamemaster/q"));
  await gm.opened;
  maria.stop();
  try {
    // Each read is given up after 300 ms but its turn stays in the pool's queue: 1100 fill it.
    const reads = await Promise.all(Array.from({ length: 1100 }, (_, i) => t.get(200000 + i)));
    expect(new Set(reads.map((r) => r.status))).toEqual(new Set([503]));
    const create = await t.create("q", 600);
    gm.send({ type: "TIMER_CREATE", payload: { sessionId: "q", maxTime: 60 }, ref: 1 });
    const reply = await gm.next((f) => f.ref === 1);
    expect({ create: create.status, gm: reply.code }).toEqual({ create: 503, gm: "unavailable" });
  } finally {
    gm.close();
    maria.cont();
  }
}, 60_000);
