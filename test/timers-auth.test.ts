/**
 * Timers with auth on (`JWT_SECRET`): changes need publish on `timers`; a customer token for
 * session `s` (subscribe `session:s`) may watch and read that session only.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SignJWT } from "jose";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";
import { uniquePrefix } from "./timers-support.ts";

const SECRET = "timers-test-secret-0123456789";
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("tester").setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));

describe("timers with auth on (embedded)", () => {
  let app: Tickwire;
  let gm: string;
  let watcher: string;
  let customer: string;
  const session = uniquePrefix("auth");

  beforeAll(async () => {
    app = await startServer({ JWT_SECRET: SECRET, TICK_MS: "100" });
    gm = await token({ publish: ["timers"], subscribe: ["timers"] });
    watcher = await token({ subscribe: ["timers"] });
    customer = await token({ subscribe: [`session:${session}`] });
  });
  afterAll(() => app.stop());

  const call = (method: string, path: string, jwt?: string, body?: unknown) =>
    fetch(app.url + path, {
      method,
      headers: { ...(jwt ? { Authorization: `Bearer ${jwt}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  it("requires publish on timers for changes, and subscribe permission for reads", async () => {
    expect((await call("POST", "/timer", undefined, { sessionId: session, maxTime: 60 })).status).toBe(401);
    expect((await call("POST", "/timer", customer, { sessionId: session, maxTime: 60 })).status).toBe(403);
    const created = await call("POST", "/timer", gm, { sessionId: session, maxTime: 60 });
    expect(created.status).toBe(201);
    const t = (await created.json()) as { id: number };
    expect((await call("PUT", `/timer/${t.id}/pause`, customer)).status).toBe(403);
    expect((await call("PUT", `/timer/${t.id}/pause`, gm)).status).toBe(200);

    expect((await call("GET", `/timers?sessionId=${session}`, customer)).status).toBe(200);
    expect((await call("GET", `/timer/${t.id}`, customer)).status).toBe(200);
    expect((await call("GET", "/timers", customer)).status).toBe(403);
    expect((await call("GET", `/timers?sessionId=other`, customer)).status).toBe(403);
    const other = (await (await call("POST", "/timer", gm, { sessionId: "other", maxTime: 60 })).json()) as { id: number };
    // Another session's timer is answered like a missing one (no id enumeration).
    expect((await call("GET", `/timer/${other.id}`, customer)).status).toBe(404);
    expect((await call("GET", "/timers", watcher)).status).toBe(200);
  });

  it("lets a customer token watch its session only, and a watch-only token send no commands", async () => {
    const own = wsClient(wsUrl(app, `/ws/customer/${session}?token=${customer}`));
    await own.opened;
    // A refused upgrade is accepted and closed at once with 4403 (browsers cannot read a 403).
    const other = wsClient(wsUrl(app, `/ws/customer/other?token=${customer}`));
    expect((await other.closed).code).toBe(4403);
    const asGm = wsClient(wsUrl(app, `/ws/gamemaster/x?token=${customer}`));
    expect((await asGm.closed).code).toBe(4403);

    const ro = wsClient(wsUrl(app, `/ws/gamemaster/x?token=${watcher}`));
    await ro.opened;
    ro.send({ type: "TIMER_CREATE", payload: { sessionId: session, maxTime: 5 }, ref: 1 });
    expect(await ro.next((f) => f.ref === 1)).toMatchObject({ op: "error", code: "forbidden" });

    const rw = wsClient(wsUrl(app, `/ws/gamemaster/x?token=${gm}`));
    await rw.opened;
    rw.send({ type: "TIMER_CREATE", payload: { sessionId: session, maxTime: 5 }, ref: 2 });
    const ack = await rw.next((f) => f.ref === 2);
    expect(ack).toMatchObject({ op: "ack", timer: { sessionId: session } });
    await own.next((f) => f.type === "TIMER_CREATE" && f.payload.id === ack.timer.id);
    for (const c of [own, ro, rw]) c.close();
  });
});
