/**
 * Two inputs a hostile client controls. A WebSocket frame that merely mentions "refresh" was
 * parsed whole (up to Bun's 1 MiB payload, ~100 ms of event loop for a deeply nested one) before
 * the frame guards and the ops limit; and `GET /presence/:topic` decoded a path Bun had decoded
 * already (`%25` gave 500, `%253A` read as a colon).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { refreshOp } from "../src/transports/ws/token-expiry.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

let app: Tickwire;
beforeAll(async () => {
  app = await startServer({});
});
afterAll(() => app.stop());

describe("refresh ops", () => {
  it("parses only frames within the client frame guards", () => {
    const token = "t".repeat(8192);
    expect(refreshOp(JSON.stringify({ op: "refresh", token, ref: 1 }))).toEqual({ token, ref: 1 });
    expect(refreshOp(JSON.stringify({ op: "refresh", token: "t".repeat(70 * 1024) }))).toBeUndefined();
    expect(refreshOp(`{"op":"refresh","x":${"[".repeat(4000)}${"]".repeat(4000)}}`)).toBeUndefined();
    expect(refreshOp('{"op":"refresh"')).toBeUndefined();
    expect(refreshOp('{"op":"subscribe","topic":"refresh"}')).toBeUndefined();
  });

  it("a long frame mentioning refresh is answered by the endpoint's own guard", async () => {
    const c = wsClient(wsUrl(app, "/ws?topics="));
    await c.opened;
    c.ws.send(`{"op":"refresh","pad":"${"z".repeat(70 * 1024)}"}`);
    const error = (await c.next((f) => (f as { op?: string })?.op === "error")) as { message?: string };
    expect(error.message).toContain("over");
    c.close();
  });
});

describe("GET /presence/:topic", () => {
  it("decodes the path once: a stray % is a 400 naming topic, %253A stays %3A", async () => {
    for (const path of ["/presence/%25", "/presence/a%25zz", "/presence/chat%253Ax"]) {
      const res = await fetch(app.url + path);
      const body = (await res.json()) as { error?: { code?: string; field?: string } };
      expect({ path, status: res.status, field: body.error?.field }).toEqual({ path, status: 400, field: "topic" });
    }
    expect((await fetch(`${app.url}/presence/chat`)).status).toBe(200);
  });
});
