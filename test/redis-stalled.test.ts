/**
 * A Redis that stops answering (SIGSTOP: the connection stays open, no reply comes back) must
 * not hang requests. node-redis drops a command's timeout once the command is written, so each
 * reply has a deadline of its own (src/infra/redis/deadlines.ts). Against a real redis-server on a
 * port of its own; without the deadlines every request below waits until the test times out.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connectRedis } from "../src/infra/redis/client.ts";
import { Deadlines } from "../src/infra/redis/deadlines.ts";
import { silentLogger } from "../src/log.ts";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { startServer, uniquePrefix } from "./support/server.ts";

describe("Deadlines", () => {
  it("rejects what is unsettled past the deadline, in order, and passes on what settles", async () => {
    const deadlines = new Deadlines(30);
    const never = new Promise<string>(() => {});
    const first = deadlines.bound(never);
    const answered = deadlines.bound(Promise.resolve("ok"));
    const failed = deadlines.bound(Promise.reject(new Error("refused")));
    const second = deadlines.bound(never);
    const outcome = (p: Promise<string>) =>
      p.then(
        (value) => value,
        (error: Error) => error.message,
      );
    expect(await Promise.all([first, answered, failed, second].map(outcome))).toEqual([
      "redis: no answer within 30 ms",
      "ok",
      "refused",
      "redis: no answer within 30 ms",
    ]);
  });
});

describe("a Redis that stopped answering", () => {
  const redis = new DedicatedRedis(freePort());
  let app: Tickwire | undefined;
  beforeAll(() => redis.start());
  afterAll(async () => {
    redis.proc?.kill("SIGCONT");
    await app?.stop();
    await redis.dispose();
  });

  it("rejects a command after the command timeout, and answers again once Redis resumes", async () => {
    const client = await connectRedis({ url: redis.url, log: silentLogger, name: "stalled", commandTimeoutMs: 300 });
    try {
      expect(await client.sendCommand<string>(["PING"])).toBe("PONG");
      redis.proc!.kill("SIGSTOP");
      await expect(client.sendCommand(["PING"])).rejects.toThrow("no answer within 300 ms");
      redis.proc!.kill("SIGCONT");
      expect(await client.sendCommand<string>(["PING"])).toBe("PONG");
    } finally {
      client.destroy();
    }
  });

  it("answers a chat post 503 and a committed timer change 200, instead of never", async () => {
    app = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: uniquePrefix("stalled") });
    const post = (path: string, body: unknown, method = "POST") =>
      fetch(`${app!.url}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const created = await post("/timer", { sessionId: "stalled", maxTime: 600 });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    redis.proc!.kill("SIGSTOP");
    try {
      // The append may or may not be stored: 503, and a retry may duplicate (never lose) it.
      const chat = await post("/messages", { content: "into the stall", user: "u" });
      expect(chat.status).toBe(503);
      // The database (SQLite) holds the pause; only the hot-state copy in Redis is late.
      const paused = await post(`/timer/${id}/pause`, {}, "PUT");
      expect(paused.status).toBe(200);
      expect(((await paused.json()) as { status: string }).status).toBe("paused");
    } finally {
      redis.proc!.kill("SIGCONT");
    }
    expect((await post("/messages", { content: "after", user: "u" })).status).toBe(201);
  }, 30_000);
});
