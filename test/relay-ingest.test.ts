/**
 * The relay's ingest under a log that is slow or down, and relay auth. The log's behaviour is
 * forced by replacing the hub's `append` on a real server; the storage mode does not matter here
 * (the relay only sees the hub), so these run on the embedded mode.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { mintToken } from "../src/auth/tokens.ts";
import { type LogEntry, LogUnavailableError } from "../src/core/topic-log.ts";
import { RELAY_MAX_IN_FLIGHT } from "../src/features/relay/ingest.ts";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const isReply = (f: any) => f?.op === "ack" || f?.op === "error";

describe("relay ingest when the log is slow or down", () => {
  let app: Tickwire;
  let realAppend: Tickwire["ctx"]["hub"]["append"];
  beforeAll(async () => {
    // Past the in-flight limit means far past the default publish rate of one socket.
    app = await startServer({ WS_PUBLISHES_PER_SECOND: "100000", WS_OPS_PER_SECOND: "100000" });
    realAppend = app.ctx.hub.append;
  });
  afterEach(() => {
    app.ctx.hub.append = realAppend;
  });
  afterAll(() => app.stop());

  it("answers overloaded past the in-flight limit, acks the rest in frame order however the log settles, and loses none", async () => {
    const pending: { settle(): void }[] = [];
    const seqOf = new Map<unknown, string>();
    app.ctx.hub.append = (topic, body) =>
      new Promise<LogEntry>((resolve) =>
        pending.push({
          settle: () =>
            resolve(
              realAppend.call(app.ctx.hub, topic, body).then((entry) => {
                seqOf.set(body.message, entry.seq);
                return entry;
              }),
            ),
        }),
      );
    const manager = wsClient(wsUrl(app, "/ws/manager"));
    const broadcaster = wsClient(wsUrl(app, "/ws/broadcast"));
    await Promise.all([manager.opened, broadcaster.opened]);
    const total = RELAY_MAX_IN_FLIGHT + 2;
    for (let i = 0; i < total; i++) manager.send(`slow-${i}`);
    await until(() => pending.length === RELAY_MAX_IN_FLIGHT, { message: () => `${RELAY_MAX_IN_FLIGHT} appends in flight (got ${pending.length})` });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain(`tickwire_queue_depth{queue="relay_ingest"} ${RELAY_MAX_IN_FLIGHT}`);
    // Replies wait for earlier frames: nothing yet, not even the two refusals.
    expect(manager.frames).toEqual([]);
    // The log completes in reverse; the manager must still see replies in its frame order.
    for (const p of [...pending].reverse()) p.settle();
    const replies = await manager.collect(total, isReply);
    expect(replies.slice(0, RELAY_MAX_IN_FLIGHT)).toEqual(Array.from({ length: RELAY_MAX_IN_FLIGHT }, (_, i) => ({ op: "ack", seq: seqOf.get(`slow-${i}`) })));
    expect(replies.slice(RELAY_MAX_IN_FLIGHT).map((r) => r.code)).toEqual(["overloaded", "overloaded"]);
    expect(manager.ws.readyState).toBe(WebSocket.OPEN);
    // Every acknowledged message reached the broadcaster; the refused ones were never stored.
    const got = await broadcaster.collect(RELAY_MAX_IN_FLIGHT, (f) => typeof f === "string" && f.startsWith("slow-"));
    expect(new Set(got)).toEqual(new Set(Array.from({ length: RELAY_MAX_IN_FLIGHT }, (_, i) => `slow-${i}`)));
    manager.close();
    broadcaster.close();
  });

  it("answers unavailable when the log refuses (Redis down) and keeps the manager open", async () => {
    app.ctx.hub.append = async () => {
      throw new LogUnavailableError("redis is unreachable; retry shortly", "unavailable");
    };
    const manager = wsClient(wsUrl(app, "/ws/manager"));
    await manager.opened;
    // More than the malformed-frame limit: a server-side failure never closes the manager.
    for (let i = 0; i < 15; i++) manager.send(`down-${i}`);
    const replies = await manager.collect(15, isReply);
    expect(new Set(replies.map((r) => `${r.op}:${r.code}`))).toEqual(new Set(["error:unavailable"]));
    app.ctx.hub.append = realAppend;
    manager.send("back");
    expect(await manager.next((f) => f?.op === "ack")).toMatchObject({ op: "ack" });
    expect(manager.ws.readyState).toBe(WebSocket.OPEN);
    manager.close();
  });

  it("reports overloaded on the unified publish op too", async () => {
    app.ctx.hub.append = async () => {
      throw new LogUnavailableError("append queue full", "overloaded");
    };
    const client = wsClient(wsUrl(app, "/ws"));
    await client.opened;
    client.send({ op: "publish", topic: "relay", data: "x", ref: "r" });
    expect(await client.next((f) => f?.ref === "r")).toMatchObject({ op: "error", code: "overloaded" });
    client.close();
  });
});

describe("relay auth", () => {
  const SECRET = "relay-secret-0123456789abcdef";
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ JWT_SECRET: SECRET });
  });
  afterAll(() => app.stop());

  it("needs publish on relay for /ws/manager and subscribe on relay for /ws/broadcast", async () => {
    expect((await wsClient(wsUrl(app, "/ws/manager")).closed).code).toBe(4401);
    const reader = await mintToken(SECRET, { sub: "r", subscribe: ["relay"] });
    expect((await wsClient(wsUrl(app, `/ws/manager?token=${reader}`)).closed).code).toBe(4403);
    expect((await wsClient(wsUrl(app, "/ws/broadcast")).closed).code).toBe(4401);
    const writer = await mintToken(SECRET, { sub: "w", publish: ["relay"] });
    expect((await wsClient(wsUrl(app, `/ws/broadcaster?token=${writer}`)).closed).code).toBe(4403);

    const broadcaster = wsClient(wsUrl(app, `/ws/broadcast?token=${reader}`));
    const manager = wsClient(wsUrl(app, `/ws/manager?token=${writer}`));
    await Promise.all([broadcaster.opened, manager.opened]);
    manager.send("authorized");
    expect(await broadcaster.next()).toBe("authorized");
    manager.close();
    broadcaster.close();
  });
});
