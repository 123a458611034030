import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

let app: Tickwire;

beforeAll(async () => {
  app = await startServer({ TICK_MS: "50" });
});
afterAll(() => app.stop());

describe("unified /ws", () => {
  it("subscribes to ?topics= at connect instead of cron", async () => {
    const client = wsClient(wsUrl(app, "/ws?topics=chat"));
    await client.opened;
    client.send({ op: "ping", ref: 1 });
    const pong = await client.next((f) => f.op === "ack");
    expect(pong).toMatchObject({ op: "ack", ref: 1, pong: true });
    expect(client.frames.some((f: any) => f.topic === "cron")).toBe(false);
    client.close();
  });

  it("subscribes and unsubscribes with in-band ops, each acknowledged", async () => {
    const client = wsClient(wsUrl(app, "/ws?topics="));
    await client.opened;
    client.send({ op: "subscribe", topic: "cron", ref: "s1" });
    expect(await client.next((f) => f.op === "ack")).toEqual({ op: "ack", ref: "s1", topic: "cron" });
    await client.next((f) => f.topic === "cron");
    client.send({ op: "unsubscribe", topic: "cron", ref: "u1" });
    expect(await client.next((f) => f.op === "ack")).toEqual({ op: "ack", ref: "u1", topic: "cron" });
    // After the ack no cron frame may reach this socket: a second cron subscriber sees two more
    // ticks, and this one sees none of them.
    const ackAt = client.frames.length;
    const witness = wsClient(wsUrl(app, "/ws"));
    await witness.collect(2, (f) => f.topic === "cron");
    witness.close();
    expect(client.frames.slice(ackAt).filter((f: any) => f.topic === "cron")).toEqual([]);
    client.close();
  });

  it("answers a malformed frame with an error frame and keeps the socket open", async () => {
    const client = wsClient(wsUrl(app, "/ws?topics="));
    await client.opened;
    client.send("{not json");
    expect(await client.next((f) => f.op === "error")).toEqual({ op: "error", code: "bad_frame", message: "frame is not valid JSON" });
    client.send({ op: "dance" });
    expect(await client.next((f) => f.op === "error")).toMatchObject({ code: "unknown_op" });
    client.send({ op: "subscribe", topic: "bad topic!" });
    const e = await client.next((f) => f.op === "error");
    expect(e.code).toBe("bad_frame");
    expect(e.message).toStartWith("topic:");
    client.send({ op: "publish", topic: "cron", data: 1, ref: 9 });
    expect(await client.next((f) => f.op === "error")).toMatchObject({ code: "not_publishable", ref: 9 });
    client.send({ op: "ping", ref: "alive" });
    expect(await client.next((f) => f.op === "ack")).toMatchObject({ ref: "alive" });
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    client.close();
  });

  it("closes a client that sends more than 10 malformed frames a second with 1008", async () => {
    const client = wsClient(wsUrl(app, "/ws?topics="));
    await client.opened;
    for (let i = 0; i < 15; i++) client.send("garbage");
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(client.frames.filter((f: any) => f.op === "error").length).toBe(10);
  });
});

describe("HTTP basics", () => {
  it("answers unknown routes with a 404 JSON error", async () => {
    const res = await fetch(`${app.url}/no/such/route`);
    expect(res.status).toBe(404);
    expect((await res.json()) as any).toEqual({ error: { code: "not_found", message: "no route for GET /no/such/route" } });
  });

  it("answers a wrong method with 405 JSON naming the allowed ones", async () => {
    const res = await fetch(`${app.url}/health`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(((await res.json()) as any).error.code).toBe("method_not_allowed");
  });

  it("reports health with connection counts and checks", async () => {
    const client = wsClient(wsUrl(app, "/ws"));
    await client.opened;
    const res = await fetch(`${app.url}/health`);
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.status).toBe("ok");
    expect(body.connections.ws).toBeGreaterThanOrEqual(1);
    expect(typeof body.uptime).toBe("number");
    expect(body.checks.redis).toBe("off");
    client.close();
  });

  it("exposes Prometheus metrics for connections, events and tick lateness", async () => {
    const client = wsClient(wsUrl(app, "/ws"));
    await client.next((f) => f.topic === "cron");
    const text = await (await fetch(`${app.url}/metrics`)).text();
    client.close();
    expect(text).toContain('tickwire_connections{transport="ws"}');
    expect(text).toMatch(/tickwire_events_published_total\{topic="cron"\} \d+/);
    expect(text).toMatch(/tickwire_events_delivered_total\{topic="cron"\} \d+/);
    expect(text).toContain("tickwire_tick_lateness_seconds_bucket");
    expect(text).toContain('tickwire_http_requests_total{route="/health",method="GET",status="200"}');
  });
});
