/**
 * A request in flight when the shutdown starts is answered before the server stops. The drain
 * used `server.stop(true)`, which reset it (ECONNRESET): the client could not tell whether its
 * chat post was stored, and a retry stores it twice (posts carry no idempotency key; found in the
 * shutdown review). The request here is still uploading its body when `stop()` is called.
 */
import { describe, expect, it } from "bun:test";
import { connect } from "node:net";
import { requestDrainMs } from "../src/app/server.ts";
import { MODES, startServer, uniquePrefix } from "./support/server.ts";

describe.each(MODES)("shutdown with a request in flight ($name)", (mode) => {
  it("answers a chat post whose body was still arriving, and stores it", async () => {
    const app = await startServer(mode.env(uniquePrefix("shutdown-in-flight")));
    const { port } = new URL(app.url);
    const body = JSON.stringify({ content: "posted during shutdown" });
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    let response = "";
    const ended = new Promise<void>((resolve) => {
      socket.on("data", (chunk) => (response += chunk.toString()));
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    });
    const head = `POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    socket.write(head + body.slice(0, 5));
    // The server has the request (its headers) before the shutdown starts: a /health round trip after.
    await fetch(`${app.url}/health`);
    const stopped = app.stop();
    socket.write(body.slice(5));
    await ended;
    await stopped;
    expect(response.split("\r\n")[0]).toBe("HTTP/1.1 201 Created");
    expect(response).toContain('"content":"posted during shutdown"');
  });
});

describe("the request drain's share of the 5 s shutdown", () => {
  it("is 2 s, less what SHUTDOWN_DELAY_MS takes past 2 s, and none at its maximum", () => {
    expect([0, 2000, 3500, 4000].map(requestDrainMs)).toEqual([2000, 2000, 500, 0]);
  });
});
