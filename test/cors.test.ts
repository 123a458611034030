/**
 * Browser origins: CORS headers and preflight on HTTP routes, and the Origin check on WebSocket
 * upgrades (a page of another origin is refused with 403; clients without Origin and pages of
 * this same host are let in), with `ALLOWED_ORIGINS` set and with the default `*`.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect } from "node:net";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const ALLOWED = "https://app.example.com";
const OTHER = "https://evil.example.net";
const SECRET = "cors-test-secret-0123456789";

/** Sends a raw WebSocket handshake and resolves with the status code of the server's answer. */
function handshake(app: Tickwire, path: string, headers: Record<string, string>): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(app.port, "127.0.0.1");
    let data = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${app.port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    socket.on("data", (chunk: string) => {
      data += chunk;
      const end = data.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = data.slice(0, end);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      const body = data.slice(end + 4);
      if (status !== 101 && Buffer.byteLength(body) < length) return;
      socket.destroy();
      resolve({ status, head, body });
    });
    socket.on("error", reject);
  });
}

describe("ALLOWED_ORIGINS set", () => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ ALLOWED_ORIGINS: `${ALLOWED}, https://other-allowed.example.org` });
  });
  afterAll(() => app.stop());

  it("answers a preflight from an allowed origin with the methods and headers a browser client needs", async () => {
    const res = await fetch(`${app.url}/timer/1/pause`, {
      method: "OPTIONS",
      headers: { Origin: ALLOWED, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(res.headers.get("access-control-allow-methods")).toContain("PUT");
    const allowedHeaders = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["authorization", "content-type", "last-event-id"]) expect(allowedHeaders).toContain(h);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("gives a preflight from another origin no CORS headers, so the browser blocks the request", async () => {
    const res = await fetch(`${app.url}/messages`, { method: "OPTIONS", headers: { Origin: OTHER, "Access-Control-Request-Method": "POST" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toBeNull();
  });

  it("adds CORS headers to answers for allowed origins only, errors included", async () => {
    const ok = await fetch(`${app.url}/health`, { headers: { Origin: ALLOWED } });
    expect(ok.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const second = await fetch(`${app.url}/health`, { headers: { Origin: "https://other-allowed.example.org" } });
    expect(second.headers.get("access-control-allow-origin")).toBe("https://other-allowed.example.org");
    const error = await fetch(`${app.url}/timer/999999`, { headers: { Origin: ALLOWED } });
    expect(error.status).toBe(404);
    expect(error.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const created = await fetch(`${app.url}/messages`, {
      method: "POST",
      headers: { Origin: ALLOWED, "Content-Type": "application/json" },
      body: '{"content":"cors"}',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const foreign = await fetch(`${app.url}/health`, { headers: { Origin: OTHER } });
    expect(foreign.status).toBe(200); // not a browser-enforced refusal: the browser hides it from the page
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    const none = await fetch(`${app.url}/health`);
    expect(none.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses a WebSocket upgrade from a page of another origin with 403 JSON, on every WebSocket route", async () => {
    for (const path of ["/ws", "/ws/customer/s1", "/ws/gamemaster/s1", "/ws/manager", "/ws/broadcast", "/ws/broadcaster"]) {
      const { status, head } = await handshake(app, path, { Origin: OTHER });
      expect(status, path).toBe(403);
      expect(head.toLowerCase()).toContain("content-type: application/json");
    }
    const { body } = await handshake(app, "/ws", { Origin: OTHER });
    expect(JSON.parse(body).error).toMatchObject({ code: "origin_not_allowed", field: "Origin" });
  });

  it("lets in allowed origins, pages of this same host, and clients without Origin", async () => {
    expect((await handshake(app, "/ws", { Origin: ALLOWED })).status).toBe(101);
    expect((await handshake(app, "/ws", { Origin: `http://127.0.0.1:${app.port}` })).status).toBe(101);
    expect((await handshake(app, "/ws/manager", {})).status).toBe(101);
    // A real client without Origin (Bun's WebSocket sends none) gets cron frames.
    const client = wsClient(wsUrl(app, "/ws?topics=cron"));
    await client.opened;
    client.send({ op: "ping", ref: 1 });
    expect((await client.next((f) => f.ref === 1)).op).toBe("ack");
    client.close();
  });

  it("a refused origin never reaches the endpoint: the Bun WebSocket client cannot open", async () => {
    const ws = new WebSocket(wsUrl(app, "/ws"), { headers: { Origin: OTHER } } as any);
    const outcome = await new Promise<string>((resolve) => {
      ws.onopen = () => resolve("open");
      ws.onerror = () => resolve("error");
      ws.onclose = () => resolve("closed");
    });
    expect(outcome).not.toBe("open");
  });
});

describe("ALLOWED_ORIGINS=* (the default)", () => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ JWT_SECRET: SECRET });
  });
  afterAll(() => app.stop());

  it("allows any origin for CORS (with `*`) and WebSocket upgrades", async () => {
    const res = await fetch(`${app.url}/messages`, {
      method: "OPTIONS",
      headers: { Origin: OTHER, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const token = await mintToken(SECRET, { sub: "u", subscribe: ["cron"] });
    expect((await handshake(app, `/ws?token=${token}`, { Origin: OTHER })).status).toBe(101);
  });

  it("keeps the 401 readable by a browser page: the error carries CORS headers", async () => {
    const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { Origin: OTHER, "Content-Type": "application/json" }, body: '{"content":"x"}' });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});
