/**
 * The Redis log appends by script hash (`EVALSHA`) and sends the script itself only as a
 * connection's first append or to a Redis that lost it, on a DEDICATED redis-server (its script cache and command counts are its own).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { systemClock } from "../src/core/clock.ts";
import { connectRedis } from "../src/infra/redis/client.ts";
import { RedisTopicLog } from "../src/infra/redis/topic-log.ts";
import { silentLogger } from "../src/log.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";

describe("appends by script hash", () => {
  const redis = new DedicatedRedis(freePort());
  beforeAll(() => redis.start());
  afterAll(() => redis.dispose());

  it("send the script itself to a Redis that does not have it (new, or flushed), once, and append once each (refused once after the flush)", async () => {
    const client = await connectRedis({ url: redis.url, log: silentLogger, name: "by-hash" });
    const log = new RedisTopicLog({ client, prefix: "h", topics: ["chat"], historySize: 100, clock: systemClock, log: silentLogger });
    try {
      await log.start();
      await log.append("chat", { n: 1 });
      await redis.cli("SCRIPT", "FLUSH");
      // Found no script: refused, not stored (sending it again could put it behind later appends).
      await expect(log.append("chat", { n: 2 })).rejects.toMatchObject({ reason: "unavailable" });
      await log.append("chat", { n: 2 });
      await log.append("chat", { n: 3 });
      expect((await log.readAfter("chat", undefined)).entries.map((e) => e.body)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      const stats = await redis.cli("INFO", "commandstats");
      const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      // Twice the script: the connection's first append, and the retry after the flush; by hash
      // the one refused with NOSCRIPT and the last.
      expect({ eval: calls("eval"), evalsha: calls("evalsha") }).toEqual({ eval: 2, evalsha: 2 });
    } finally {
      await log.stop();
      client.destroy();
    }
  });
});
