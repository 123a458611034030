/**
 * Issue 17: a refused subscribe costs no memory. A child server (its own RSS) with
 * `MAX_TOPICS_PER_CONNECTION=10` takes 100 000 in-band subscribes to distinct topics on one
 * socket, every one refused `limit_exceeded`; its RSS afterwards is within 10 MB of before
 * (before the limit existed, 100 000 subscribes added about 100 MB). Both storage modes.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { type ChildServer, MODES, spawnServer, uniquePrefix } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

/**
 * The server's RSS at rest: garbage from a burst of frames is freed by Bun's collector when the
 * process goes idle, so RSS is sampled until it has made no new low for 1.5 s (at most 10 s).
 */
async function restingRss(pid: number): Promise<number> {
  let low = rssBytes(pid);
  let lowAt = Date.now();
  const start = Date.now();
  return until(
    () => {
      const now = rssBytes(pid);
      if (now < low - 256 * 1024) [low, lowAt] = [now, Date.now()];
      return Date.now() - lowAt >= 1500 || Date.now() - start >= 10_000 ? low : undefined;
    },
    { intervalMs: 100, timeoutMs: 12_000 },
  );
}

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
      for (let done = 0; done < n; done += 5000) {
        ws.frames.length = 0; // the client keeps no frames of its own between batches
        for (let i = 0; i < 5000; i++) ws.send({ op: "subscribe", topic: `flood-${sent++}` });
        await ws.collect(5000, (f) => f.op === "error" || f.op === "ack", 30_000);
      }
    };
    // Warm up until the heap has its working size (the first 9 are accepted, the rest refused):
    // RSS then measures what refused subscribes keep, not the garbage collector's first growth.
    await subscribe(50_000);
    const before = await restingRss(server.proc.pid);
    await subscribe(100_000);
    const after = await restingRss(server.proc.pid);
    expect(ws.ws.readyState).toBe(WebSocket.OPEN);
    console.log(`RSS ${(before / 2 ** 20).toFixed(1)} MB → ${(after / 2 ** 20).toFixed(1)} MB after 100 000 refused subscribes (${mode.name})`);
    expect(after - before).toBeLessThan(10 * 1024 * 1024);
    ws.close();
  }, 120_000);
});
