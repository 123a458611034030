/**
 * Issue 17, per-client limits, in both storage modes: topics per connection, frames (in-band
 * ops, ping included) and publishes per second per connection, connections per client address,
 * and `METRICS_TOKEN`. Each limit is reached and refused with its code (HTTP 429 + Retry-After
 * where HTTP) and counted in `/metrics` by limit, while another client is unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const METRICS_TOKEN = "metrics-token-0123456789";

describe.each(MODES)("limits ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({
      ...mode.env(uniquePrefix("limits")),
      MAX_TOPICS_PER_CONNECTION: "4",
      WS_OPS_PER_SECOND: "40",
      WS_PUBLISHES_PER_SECOND: "5",
      MAX_CONNECTIONS_PER_ADDRESS: "6",
      METRICS_TOKEN,
    });
  });
  afterAll(() => app.stop());

  const refusals = async (limit: string): Promise<number> => {
    const text = await (await fetch(`${app.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const line = text.split("\n").find((l) => l.startsWith(`tickwire_limit_refusals_total{limit="${limit}"}`));
    return line ? Number(line.split(" ").pop()) : 0;
  };
  const open = async (path: string) => {
    const ws = wsClient(wsUrl(app, path));
    await ws.opened;
    return ws;
  };

  it("refuses a topic past MAX_TOPICS_PER_CONNECTION in-band, in ?topics= and on SSE, and counts each", async () => {
    const before = await refusals("topics_per_connection");
    const ws = await open("/ws?topics=t1,t2,t3");
    ws.send({ op: "subscribe", topic: "t4", ref: 4 });
    expect((await ws.next((f) => f.ref === 4)).op).toBe("ack");
    ws.send({ op: "subscribe", topic: "t4", ref: "again" }); // already subscribed: not a new topic
    expect((await ws.next((f) => f.ref === "again")).op).toBe("ack");
    ws.send({ op: "subscribe", topic: "t5", ref: 5 });
    expect(await ws.next((f) => f.ref === 5)).toMatchObject({ op: "error", code: "limit_exceeded" });
    ws.send({ op: "unsubscribe", topic: "t1", ref: "u" });
    await ws.next((f) => f.ref === "u");
    ws.send({ op: "subscribe", topic: "t5", ref: "5b" });
    expect((await ws.next((f) => f.ref === "5b")).op).toBe("ack");
    for (const path of ["/ws?topics=a,b,c,d,e", "/events?topics=a,b,c,d,e"]) {
      const res = await fetch(`${app.url}${path}`);
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBeTruthy();
      expect(((await res.json()) as any).error).toMatchObject({ code: "limit_exceeded", field: "topics" });
    }
    // Another connection is unaffected.
    const other = await open("/ws?topics=a,b,c,d");
    other.send({ op: "ping", ref: "p" });
    expect((await other.next((f) => f.ref === "p")).pong).toBe(true);
    expect(await refusals("topics_per_connection")).toBe(before + 3);
    ws.close();
    other.close();
  });

  it("answers frames past WS_OPS_PER_SECOND (ping included) with one rate_limited, then closes the flood with 1008", async () => {
    const before = await refusals("ws_ops");
    const ws = await open("/ws?topics=chat");
    for (let i = 0; i < 50; i++) ws.send({ op: "ping", ref: i });
    const limited = await ws.next((f) => f.code === "rate_limited");
    expect(limited.op).toBe("error");
    const pongs = ws.frames.filter((f: any) => f?.pong === true).length;
    expect(pongs).toBeLessThanOrEqual(40);
    // A client over twice the limit within the second is closed.
    for (let i = 0; i < 100; i++) ws.send({ op: "ping" });
    expect((await ws.closed).code).toBe(1008);
    expect(await refusals("ws_ops")).toBeGreaterThan(before);
    // On the timer sockets too, and others are unaffected.
    const customer = await open("/ws/customer/limits-s1");
    for (let i = 0; i < 100; i++) customer.send({ op: "ping" });
    expect((await customer.closed).code).toBe(1008);
    const fresh = await open("/ws?topics=chat");
    fresh.send({ op: "ping", ref: "ok" });
    expect((await fresh.next((f) => f.ref === "ok")).pong).toBe(true);
    fresh.close();
  });

  it("answers each publish past WS_PUBLISHES_PER_SECOND with rate_limited: /ws publish op and /ws/manager frames", async () => {
    const before = await refusals("ws_publishes");
    const ws = await open("/ws?topics=chat");
    for (let i = 0; i < 8; i++) ws.send({ op: "publish", topic: "chat", data: { content: `m${i}` }, ref: i });
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => ws.next((f) => f.ref === i)));
    expect(replies.filter((r) => r.op === "ack")).toHaveLength(5);
    expect(replies.filter((r) => r.code === "rate_limited")).toHaveLength(3);
    const manager = await open("/ws/manager");
    for (let i = 0; i < 8; i++) manager.send(`relay ${i}`);
    const answers = await manager.collect(8, (f) => f.op === "ack" || f.op === "error");
    // Replies come in frame order: the first five stored, the rest refused.
    expect(answers.map((a) => a.op)).toEqual(["ack", "ack", "ack", "ack", "ack", "error", "error", "error"]);
    expect(answers.slice(5).every((a) => a.code === "rate_limited")).toBe(true);
    expect(await refusals("ws_publishes")).toBe(before + 6);
    ws.close();
    manager.close();
  });

  it("refuses a connection past MAX_CONNECTIONS_PER_ADDRESS with 429, WS and SSE counted together, and frees it on close", async () => {
    // Every socket of earlier tests is closed: wait until the server has seen it.
    await until(async () => {
      const health = (await (await fetch(`${app.url}/health`)).json()) as any;
      return health.connections.ws + health.connections.sse === 0;
    });
    const before = await refusals("connections_per_address");
    const sockets = await Promise.all(Array.from({ length: 4 }, () => open("/ws?topics=chat")));
    const streams = await Promise.all(Array.from({ length: 2 }, () => sseClient(`${app.url}/events?topics=chat`)));
    for (const path of ["/ws?topics=chat", "/events?topics=chat"]) {
      const res = await fetch(`${app.url}${path}`, path.startsWith("/ws") ? { headers: { Upgrade: "websocket", Connection: "Upgrade" } } : {});
      expect(res.status).toBe(429);
      expect(((await res.json()) as any).error.code).toBe("limit_exceeded");
    }
    expect(await refusals("connections_per_address")).toBe(before + 2);
    sockets[0]!.close();
    await sockets[0]!.closed;
    const again = await until(async () => {
      const res = await fetch(`${app.url}/events?topics=chat`);
      if (res.status === 200) return res;
      await res.body?.cancel();
      return undefined;
    });
    await again.body?.cancel();
    for (const s of sockets.slice(1)) s.close();
    for (const s of streams) s.close();
  });

  it("protects /metrics with METRICS_TOKEN", async () => {
    const none = await fetch(`${app.url}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe("unauthorized");
    expect((await fetch(`${app.url}/metrics`, { headers: { Authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
    const ok = await fetch(`${app.url}/metrics`, { headers: { Authorization: `bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("tickwire_limit_refusals_total");
  });
});
