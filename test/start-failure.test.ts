/**
 * A start that fails half-way disposes what it had already started, newest first: here the
 * database is unreachable after Redis connected, and no Redis connection of the failed instance
 * may stay open (a process that retries its start would otherwise leak one per attempt).
 */
import { describe, expect, it } from "bun:test";
import { createClient } from "redis";
import { loadConfig } from "../src/config/index.ts";
import { startTickwire } from "../src/main.ts";
import { REDIS_URL, uniquePrefix } from "./support/server.ts";
import { until } from "./support/until.ts";

async function clientNames(): Promise<string[]> {
  const admin = createClient({ url: REDIS_URL });
  await admin.connect();
  try {
    const list = String(await admin.sendCommand(["CLIENT", "LIST"]));
    return [...list.matchAll(/ name=(\S*)/g)].map((m) => m[1]!);
  } finally {
    admin.destroy();
  }
}

describe("a failed start", () => {
  it("rejects and closes its Redis connections when the database is unreachable after Redis connected", async () => {
    const prefix = uniquePrefix("startfail");
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      APP_ENV: "test",
      LOG_LEVEL: "silent",
      REDIS_URL,
      STREAM_PREFIX: prefix,
      // Nothing listens on port 1: the connection is refused at once.
      DATABASE_URL: "mysql://root@127.0.0.1:1/test",
    });
    const started = startTickwire(config);
    await expect(started).rejects.toThrow();
    const ours = (names: string[]) => names.filter((n) => n === `tickwire-${prefix}` || n === `${prefix}-tailer`);
    await until(async () => ours(await clientNames()).length === 0, { message: "the failed instance's Redis connections to close" });
    expect(ours(await clientNames())).toEqual([]);
  });
});
