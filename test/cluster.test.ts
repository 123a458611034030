/**
 * A cluster on one machine: two tickwire processes on the same port (`REUSE_PORT=1`, the
 * kernel's SO_REUSEPORT spreads connections between them), joined by Redis (`REDIS_URL`, same
 * `STREAM_PREFIX`). A chat message posted to the shared port reaches SSE clients of both.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { loadConfig } from "../src/config/index.ts";
import { type ChildServer, REDIS_URL, spawnServer, uniquePrefix } from "./support/server.ts";
import { type SseTestClient, sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";

/** A port that is free right now (the kernel picks it; we release it at once). */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Client ids of the SSE streams a child server opened (from its debug log). */
function sseClientsOf(child: ChildServer): Set<string> {
  const ids = new Set<string>();
  for (const line of child.lines) {
    if (!line.includes('"sse opened"')) continue;
    const clientId = JSON.parse(line).clientId;
    if (typeof clientId === "string") ids.add(clientId);
  }
  return ids;
}

describe("two processes sharing one port (REUSE_PORT) joined by Redis", () => {
  const prefix = uniquePrefix("cluster");
  const port = freePort();
  const env = { PORT: String(port), REUSE_PORT: "1", REDIS_URL, STREAM_PREFIX: prefix, LOG_LEVEL: "debug", TICK_MS: "1000" };
  const children: ChildServer[] = [];
  const clients: SseTestClient[] = [];
  const shared = `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    children.push(await spawnServer(env));
    children.push(await spawnServer(env));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const child of children) {
      child.proc.kill("SIGTERM");
      await child.exited;
    }
  });

  it("REUSE_PORT is a boolean setting; a bad value is refused naming it", () => {
    expect(loadConfig({ REUSE_PORT: "1" }).reusePort).toBe(true);
    expect(loadConfig({ REUSE_PORT: "off" }).reusePort).toBe(false);
    expect(loadConfig({}).reusePort).toBe(false);
    expect(() => loadConfig({ REUSE_PORT: "maybe" })).toThrow(/REUSE_PORT="maybe": expected a boolean/);
  });

  it("both listen on the same port", () => {
    expect(children.map((c) => c.port)).toEqual([port, port]);
    for (const child of children) expect(child.proc.exitCode).toBeNull();
  });

  it("a third process without REUSE_PORT cannot take the port", async () => {
    const proc = Bun.spawn([process.execPath, "src/main.ts"], {
      cwd: `${import.meta.dir}/..`,
      env: { ...process.env, ...env, REUSE_PORT: "0", HOST: "127.0.0.1", DATABASE_URL: "sqlite::memory:", LOG_LEVEL: "warn" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    // One fatal JSON log line on stdout names the cause.
    expect(await new Response(proc.stdout).text()).toContain('"code":"EADDRINUSE"');
  });

  it("delivers a chat message posted to the shared port to the SSE clients of both processes", async () => {
    // Connections are spread by the kernel; open streams until each process holds some.
    const [a, b] = children as [ChildServer, ChildServer];
    for (let i = 0; i < 64; i++) {
      clients.push(await sseClient(`${shared}/events?topics=chat&client_id=c${i}`));
      if (i >= 3) {
        await until(() => sseClientsOf(a).size + sseClientsOf(b).size === clients.length, { message: "the processes to log their streams" });
        if (sseClientsOf(a).size >= 2 && sseClientsOf(b).size >= 2) break;
      }
    }
    const [onA, onB] = [sseClientsOf(a), sseClientsOf(b)];
    expect(onA.size).toBeGreaterThanOrEqual(2);
    expect(onB.size).toBeGreaterThanOrEqual(2);
    expect([...onA].some((id) => onB.has(id))).toBe(false);

    const sent: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${shared}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ content: `m${i}`, user: "cluster" }),
      });
      expect(res.status).toBe(201);
      sent.push(((await res.json()) as any).seq);
    }
    for (const client of clients) {
      const got = await client.collect(sent.length, (e) => e.json?.topic === "chat");
      expect(got.map((e) => e.json.seq)).toEqual(sent);
      expect(got.map((e) => e.json.content)).toEqual(sent.map((_, i) => `m${i}`));
    }
  });

  it("answers /health on the shared port whichever process takes the connection", async () => {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${shared}/health`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).checks.redis).toBe("up");
    }
  });
});
