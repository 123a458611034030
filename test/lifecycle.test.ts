import { describe, expect, it } from "bun:test";
import { spawnServer } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

describe("the server process", () => {
  it("on the default settings sends the seed client cron ticks exactly 1000 ms apart", async () => {
    const child = await spawnServer();
    try {
      const client = wsClient(`${child.url.replace("http", "ws")}/ws`);
      const frames = await client.collect(3, (f) => f.event === "cron_tick", 10_000);
      client.close();
      const times = frames.map((f) => Date.parse(f.message));
      expect([times[1]! - times[0]!, times[2]! - times[1]!]).toEqual([1000, 1000]);
    } finally {
      child.proc.kill("SIGKILL");
    }
  });

  it("on SIGTERM closes WebSockets with 1001, ends SSE streams and exits 0", async () => {
    const child = await spawnServer({ TICK_MS: "100" });
    const ws = wsClient(`${child.url.replace("http", "ws")}/ws`);
    await ws.next((f) => f.topic === "cron");
    const sse = await sseClient(`${child.url}/events?topics=cron`);
    await sse.next();
    child.proc.kill("SIGTERM");
    const [closed, code] = await Promise.all([ws.closed, child.exited, sse.ended]);
    expect(closed.code).toBe(1001);
    expect(code).toBe(0);
    expect(child.lines.some((l) => l.includes('"shutdown complete"'))).toBe(true);
  });

  it("with SHUTDOWN_DELAY_MS, reports 503 on /health while connections are still open, then drains", async () => {
    const child = await spawnServer({ SHUTDOWN_DELAY_MS: "1500" });
    const ws = wsClient(`${child.url.replace("http", "ws")}/ws`);
    await ws.opened;
    child.proc.kill("SIGTERM");
    const health = await until(
      async () => {
        const res = await fetch(`${child.url}/health`);
        return res.status !== 200 && res;
      },
      { message: "/health to stop answering 200 after SIGTERM" },
    );
    expect(health.status).toBe(503);
    expect(((await health.json()) as any).status).toBe("shutting_down");
    expect(ws.ws.readyState).toBe(WebSocket.OPEN);
    expect((await ws.closed).code).toBe(1001);
    expect(await child.exited).toBe(0);
  });

  it("exits 2 with one line naming a bad variable before listening", async () => {
    const proc = Bun.spawn([process.execPath, "src/main.ts"], {
      cwd: `${import.meta.dir}/..`,
      env: { ...process.env, PORT: "0", HISTORY_SIZE: "-5" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(2);
    const err = (await new Response(proc.stderr).text()).trim();
    expect(err).toBe('invalid config: HISTORY_SIZE="-5": expected an integer 1..1000000');
  });
});
