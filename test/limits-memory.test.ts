/**
 * Issue 17: a refused subscribe costs no memory. A child server (its own RSS) with
 * `MAX_TOPICS_PER_CONNECTION=10` takes 100 000 in-band subscribes to distinct topics on one
 * socket, every one refused `limit_exceeded`; its RSS afterwards is within 10 MB of before
 * (before the limit existed, 100 000 subscribes added about 100 MB). Both storage modes.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { type ChildServer, MODES, spawnServer, uniquePrefix } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

describe.each(MODES)("refused subscribes ($name)", (mode) => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await spawnServer({ ...mode.env(uniquePrefix("limits-mem")), MAX_TOPICS_PER_CONNECTION: "10", WS_OPS_PER_SECOND: "100000" });
  });
  afterAll(async () => {
    server.proc.kill();
    await server.exited;
  });

  it("keeps RSS within 10 MB of before after 100 000 refused subscribes", async () => {
    const ws = wsClient(`${server.url.replace("http", "ws")}/ws?topics=t0`);
    await ws.opened;
    let sent = 0;
    /** Sends `n` subscribes to new topics in batches, each batch answered before the next. */
    const subscribe = async (n: number) => {
      for (let done = 0; done < n; done += 10_000) {
        ws.frames.length = 0; // the client keeps no frames of its own between batches
        for (let i = 0; i < 10_000; i++) ws.send({ op: "subscribe", topic: `flood-${sent++}` });
        await ws.collect(10_000, (f) => f.op === "error" || f.op === "ack", 30_000);
      }
    };
    await subscribe(20_000); // warm up: the first 9 are accepted, the rest refused
    const before = rssBytes(server.proc.pid);
    await subscribe(100_000);
    const after = rssBytes(server.proc.pid);
    expect(ws.ws.readyState).toBe(WebSocket.OPEN);
    expect(after - before).toBeLessThan(10 * 1024 * 1024);
    ws.close();
  }, 120_000);
});
