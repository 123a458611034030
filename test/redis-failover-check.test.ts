/**
 * `checkAfterReconnect` against the machine's Redis (a prefix of its own): an append this
 * instance acknowledged while the check's read of the stream's end was out is not a lost entry.
 * Under load, after the tailer's connection dropped, the check renewed the epoch and reset every
 * subscriber of a healthy stream (CI: test/redis-fault.test.ts, 1 run in 3 with the CPU busy).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { RecentEntries } from "../src/core/recent-entries.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { EpochWatch, epochKey } from "../src/infra/redis/epochs.ts";
import { checkAfterReconnect } from "../src/infra/redis/failover-check.ts";
import { silentLogger } from "../src/log.ts";
import { REDIS_URL, uniquePrefix } from "./support/server.ts";

describe("checkAfterReconnect", () => {
  const prefix = uniquePrefix("failover-check");
  const key = `${prefix}:chat`;
  let client: Redis;
  beforeAll(async () => {
    client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "failover-check-test" });
  });
  afterAll(async () => {
    await client.sendCommand(["DEL", key, epochKey(prefix, "chat")]);
    client.destroy();
  });

  it("keeps the epoch when an entry is acknowledged while the stream's end is being read", async () => {
    const first = await client.sendCommand<string>(["XADD", key, "*", "d", "1"]);
    await client.sendCommand(["SET", epochKey(prefix, "chat"), `e1 ${first}`]);
    const epochs = new EpochWatch(client, prefix);
    await epochs.refresh(["chat"]);
    const acked = new Map([["chat", first]]);
    // The command connection goes on writing during the check: the append is acknowledged
    // between the end's reply and the check's look at what was acknowledged.
    const hooked: Redis = Object.create(client);
    let appended = false;
    hooked.sendCommand = async <T>(args: string[], route?: string): Promise<T> => {
      const reply = await client.sendCommand<T>(args, route);
      if (args[0] === "XINFO" && !appended) {
        appended = true;
        acked.set("chat", await client.sendCommand<string>(["XADD", key, "*", "d", "2"]));
      }
      return reply;
    };
    const replaced = await checkAfterReconnect({
      client: hooked,
      prefix,
      topics: ["chat"],
      epochs,
      positions: new Map([["chat", first]]),
      acked,
      minReplicas: 0,
      recent: new RecentEntries(10),
      log: silentLogger,
    });
    expect(appended).toBe(true);
    expect(replaced).toEqual([]);
    expect(epochs.get("chat")?.id).toBe("e1");
    expect(acked.get("chat")).not.toBe(first); // still counted for the next check
  });
});
