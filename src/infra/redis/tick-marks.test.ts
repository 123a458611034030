/**
 * `RedisTickMarks` against the machine's Redis (keys under a prefix of their own): per root the
 * oldest seq any instance put for a tick (compared as numbers, not as text), an expiry on the
 * hash, and nothing for a tick no instance marked.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { REDIS_URL, uniquePrefix } from "../../../test/support/server.ts";
import { silentLogger } from "../../log.ts";
import { connectRedis, type Redis } from "./client.ts";
import { RedisTickMarks } from "./tick-marks.ts";

describe("RedisTickMarks", () => {
  const prefix = uniquePrefix("tickmarks");
  let client: Redis;
  beforeAll(async () => {
    client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "tickmarks-test" });
  });
  afterAll(async () => {
    await client.sendCommand(["DEL", `${prefix}:tickmark:5000`, `${prefix}:tickmark:6000`]);
    client.destroy();
  });

  it("keeps per root the oldest mark of all instances, for the marks' retention", async () => {
    const marks = new RedisTickMarks(client, prefix, ["chat", "relay", "timers"], 60_000);
    await marks.put(5000, { chat: "4990-2", relay: "100-1" });
    await marks.put(5000, { chat: "4990-10", relay: "99-1", timers: "7-1" }); // "4990-10" > "4990-2" as numbers
    await marks.put(5000, { chat: "998-1" }); // fewer digits, older
    expect(await marks.get(5000)).toEqual({ chat: "998-1", relay: "99-1", timers: "7-1" });
    const ttl = await client.sendCommand<number>(["PTTL", `${prefix}:tickmark:5000`]);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await marks.get(6000)).toBeUndefined();
    await marks.put(6000, {}); // nothing delivered anywhere yet: nothing stored
    expect(await client.sendCommand<number>(["EXISTS", `${prefix}:tickmark:6000`])).toBe(0);
  });
});
