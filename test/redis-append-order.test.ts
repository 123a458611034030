/**
 * Pipelined appends are stored in the order they were sent, also on a Redis that does not have
 * the append script yet (a new or restarted server, a promoted replica). With `EVALSHA` first
 * and `EVAL` on `NOSCRIPT`, the first append's `EVAL` loaded the script between the second's
 * `NOSCRIPT` and its `EVAL`, and a third append sent meanwhile went in before the second (CI:
 * test/redis-sentinel.test.ts, a manager's pipelined messages acknowledged out of order).
 * An append that finds no script all the same (SCRIPT FLUSH, or one held by the client across a
 * Sentinel failover) is refused, never sent again behind later ones. A dedicated redis-server,
 * so its script cache starts empty.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { LogUnavailableError } from "../src/core/topic-log.ts";
import { appendCommand, sendAppend } from "../src/infra/redis/append-script.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { silentLogger } from "../src/log.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { pipelineAppends } from "./support/pipelined-appends.ts";
import { until } from "./support/until.ts";

describe("sendAppend on a Redis without the script", () => {
  const redis = new DedicatedRedis(freePort());
  const key = "order:chat";
  let client: Redis;
  beforeAll(async () => {
    await redis.start();
    client = await connectRedis({ url: redis.url, log: silentLogger, name: "append-order-test" });
  });
  afterAll(async () => {
    client?.destroy();
    await redis.dispose();
  });

  /** Appends `label`, recording the order of the calls. */
  const sent: string[] = [];
  const appendVia = (via: Redis, label: string) => {
    sent.push(label);
    const command = appendCommand({
      prefix: "order",
      topic: "chat",
      tailed: [key],
      opts: undefined,
      historySize: 1000,
      json: JSON.stringify({ label }),
      ts: Date.now(),
    });
    return sendAppend(via, command);
  };
  const stored = async () => {
    const entries = await client.sendCommand<[string, string[]][]>(["XRANGE", key, "-", "+"]);
    return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf("d") + 1]!).label as string);
  };

  it("keeps the order when an append is sent while the script is being loaded", async () => {
    // The third append goes out right after the first `EVAL`, as a pipelining publisher's would.
    const hooked: Redis = Object.create(client);
    hooked.writeMark = (route) => client.writeMark(route);
    const appends: Promise<string[]>[] = [];
    let fired = false;
    hooked.sendCommand = <T>(args: string[], route?: string): Promise<T> => {
      const reply = client.sendCommand<T>(args, route);
      if (args[0] === "EVAL" && !fired) {
        fired = true;
        appends.push(appendVia(hooked, "third"));
      }
      return reply;
    };
    appends.push(appendVia(hooked, "first"), appendVia(hooked, "second"));
    await Promise.all(appends);
    for (let i = 0; i < 20; i++) appends.push(appendVia(hooked, `later-${i}`));
    await Promise.all(appends);
    expect(fired).toBe(true);
    expect(await stored()).toEqual(sent);
  });

  it("refuses an append that found no script (SCRIPT FLUSH, a failover) instead of sending it again behind later ones", async () => {
    // Appends pipelined by one publisher while another connection flushes the script cache: each
    // is stored in the order sent, or refused unavailable (not stored).
    const admin = await connectRedis({ url: redis.url, log: silentLogger, name: "append-order-admin" });
    const pump = pipelineAppends(client, { prefix: "order", topic: "pump" });
    try {
      for (let round = 0; round < 10; round++) {
        const at = pump.sent;
        await until(() => pump.sent > at + 300, { message: "appends going" });
        await admin.sendCommand(["SCRIPT", "FLUSH"]);
      }
    } finally {
      await pump.stop();
      admin.destroy();
    }
    const stored = await pump.stored();
    expect(pump.refusals.length).toBeGreaterThan(0);
    for (const refusal of pump.refusals) expect(refusal).toBeInstanceOf(LogUnavailableError);
    expect(stored.length + pump.refusals.length).toBe(pump.sent);
    expect(stored).toEqual([...stored].sort((a, b) => a - b));
  }, 30_000);
});
