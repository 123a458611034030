/**
 * node-redis skips its per-command tracing only when the tracing channel reports no subscribers;
 * src/infra/redis.ts gives Bun's TracingChannel the `hasSubscribers` it lacks. Real Redis.
 */
import { describe, expect, it } from "bun:test";
import diagnosticsChannel from "node:diagnostics_channel";
import { connectRedis } from "../src/infra/redis/client.ts";
import { silentLogger } from "../src/log.ts";
import { REDIS_URL } from "./support/server.ts";

describe("node-redis command tracing", () => {
  it("is off without subscribers and still reaches a tracer that subscribes", async () => {
    const client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "tracing-test" });
    try {
      const channel = diagnosticsChannel.tracingChannel("node-redis:command");
      expect(channel.hasSubscribers).toBe(false);

      const seen: string[] = [];
      const handlers = {
        start: (ctx: unknown) => void seen.push((ctx as { command: string }).command),
        end: () => {},
        asyncStart: () => {},
        asyncEnd: () => {},
        error: () => {},
      };
      channel.subscribe(handlers);
      expect(channel.hasSubscribers).toBe(true);
      expect(String(await client.sendCommand(["PING"]))).toBe("PONG");
      expect(seen).toEqual(["PING"]);

      channel.unsubscribe(handlers);
      expect(channel.hasSubscribers).toBe(false);
      await client.sendCommand(["PING"]);
      expect(seen).toEqual(["PING"]);
    } finally {
      client.destroy();
    }
  });
});
