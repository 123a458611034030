/**
 * Trimming the relay history as the README documents it for Redis mode
 * (`XTRIM <STREAM_PREFIX>:relay MAXLEN 0`, the seed's own clean-up command): the history is gone,
 * a broadcaster resuming from before the trim is told so, and the relay goes on working.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createClient } from "redis";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, REDIS_URL, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const redisMode = MODES.find((m) => m.name === "mysql+redis")!;

describe("trimming the relay stream in Redis mode", () => {
  const prefix = uniquePrefix("relay-trim");
  let app: Tickwire;
  const redis = createClient({ url: REDIS_URL });
  beforeAll(async () => {
    await redis.connect();
    app = await startServer(redisMode.env(prefix));
  });
  afterAll(async () => {
    await app.stop();
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*` })) if (keys.length) await redis.del(keys);
    redis.destroy();
  });

  it("empties the history with XTRIM; resumers get recovered:false, then live messages as before", async () => {
    const manager = wsClient(wsUrl(app, "/ws/manager"));
    await manager.opened;
    for (const t of ["old-1", "old-2", "old-3"]) manager.send(t);
    const acks = await manager.collect(3, (f) => f?.op === "ack");
    expect(await redis.xLen(`${prefix}:relay`)).toBe(3);

    expect(await redis.xTrim(`${prefix}:relay`, "MAXLEN", 0)).toBe(3);
    expect(await redis.xLen(`${prefix}:relay`)).toBe(0);

    // Each instance notices a trim made from outside within half a second (its window check);
    // until then a resumer may still be sent the trimmed messages from memory.
    const resumer = await until(async () => {
      const client = wsClient(wsUrl(app, `/ws/broadcast?since=${acks[0].seq}`));
      const first = await client.next();
      if (first?.op === "recovered") return client;
      client.close();
      return undefined;
    });
    expect(resumer.frames[0]).toEqual({ op: "recovered", topic: "relay", recovered: false });
    manager.send("after-trim");
    expect(await resumer.next()).toBe("after-trim");
    const [, , , ack] = await manager.collect(4, (f) => f?.op === "ack");
    // Stream ids keep growing after a trim, so seqs stay comparable with the old ones.
    expect(compareSeq(ack.seq, acks[2].seq)).toBeGreaterThan(0);
    manager.close();
    resumer.close();
  });
});
