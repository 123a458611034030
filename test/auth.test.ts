import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { wsClient } from "./support/ws-client.ts";

const SECRET = "test-secret-0123456789abcdef";
let app: Tickwire;
beforeAll(async () => {
  app = await startServer({ JWT_SECRET: SECRET, TICK_MS: "50" });
});
afterAll(() => app.stop());

describe("auth on the shared transports", () => {
  it("closes a WebSocket without a token with 4401 and one without the permission with 4403", async () => {
    const none = wsClient(wsUrl(app, "/ws"));
    expect((await none.closed).code).toBe(4401);
    const token = await mintToken(SECRET, { sub: "u", subscribe: ["chat"] });
    const wrong = wsClient(wsUrl(app, `/ws?topics=cron&token=${token}`));
    const err = await wrong.next((f) => f.op === "error");
    expect(err.code).toBe("forbidden");
    wrong.close();
    const bad = wsClient(wsUrl(app, `/ws?token=${token}x`));
    expect((await bad.closed).code).toBe(4401);
  });

  it("lets a token with subscribe on cron receive cron frames", async () => {
    const token = await mintToken(SECRET, { sub: "u", subscribe: ["cron"] });
    const client = wsClient(wsUrl(app, `/ws?token=${token}`));
    expect((await client.next((f) => f.topic === "cron")).event).toBe("cron_tick");
    client.close();
  });

  it("answers SSE without a token 401 and with a foreign topic 403, as JSON", async () => {
    const res = await fetch(`${app.url}/events?topics=cron`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe("unauthorized");
    const token = await mintToken(SECRET, { sub: "u", subscribe: ["chat"] });
    const forbidden = await fetch(`${app.url}/events?topics=cron`, { headers: { Authorization: `Bearer ${token}` } });
    expect(forbidden.status).toBe(403);
    const ok = await sseClient(`${app.url}/events?topics=chat&token=${token}`);
    expect(ok.response.status).toBe(200);
    ok.close();
  });

  it("rejects an expired token with 401", async () => {
    const token = await mintToken(SECRET, { sub: "u", subscribe: ["*"], expiresIn: -10 });
    const res = await fetch(`${app.url}/events?topics=cron`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.message).toBe("token: expired");
  });
});
