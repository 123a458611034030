/**
 * Issue #21, Sentinel: a primary, a replica and three sentinels (real redis-server processes on
 * their own ports), two tickwire instances on `REDIS_SENTINEL` with `REDIS_MIN_REPLICAS=1`, chat
 * posted continuously on both. `kill -9` of the primary: posts during the failover get 503 with
 * `Retry-After`; after the promotion every message that got a 201 reaches the connected
 * subscribers of both instances and a client resuming with `Last-Event-ID`, in order, none twice.
 * Measured (printed): time from the kill to the first 201, and the posts refused meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SentinelSet } from "../bench/support/redis-topology.ts";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { expectEveryAcceptedOnce, postContinuously } from "./support/chat-through-fault.ts";
import { startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { wsClient } from "./support/ws-client.ts";

/**
 * With one replica, the promoted master has none left, so `WAIT 1` fails (503) until the killed
 * primary is restarted and rejoins as its replica, as an orchestrator would restart it; with two,
 * one is left and appends are acknowledged as soon as the promotion is done.
 */
const CASES = [
  { replicas: 1, restartOld: true },
  { replicas: 2, restartOld: false },
];

describe.each(CASES)("Redis Sentinel failover with REDIS_MIN_REPLICAS=1, primary + $replicas replica(s)", ({ replicas, restartOld }) => {
  const set = new SentinelSet({ masterName: "tw", replicas, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
  const apps: Tickwire[] = [];
  beforeAll(async () => {
    await set.start();
    const env = { REDIS_SENTINEL: set.envValue, REDIS_MIN_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "500", STREAM_PREFIX: uniquePrefix("sentinel") };
    apps.push(await startServer(env), await startServer(env));
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await set.dispose();
  });

  it("stores one publisher's pipelined messages in the order it sent them", async () => {
    const [a, b] = apps as [Tickwire, Tickwire];
    const broadcaster = wsClient(wsUrl(b, "/ws/broadcast"));
    const manager = wsClient(wsUrl(a, "/ws/manager"));
    await Promise.all([broadcaster.opened, manager.opened]);
    const texts = Array.from({ length: 500 }, (_, i) => `o-${i}`);
    // Paced, one every millisecond or so, as a real publisher sends (a burst kept the reordering away).
    for (const t of texts) {
      manager.send(t);
      await Bun.sleep(1);
    }
    const acks = await manager.collect(500, (f: any) => f?.op === "ack");
    const seqs = acks.map((f: any) => f.seq as string);
    expect(seqs).toEqual([...seqs].sort(compareSeq));
    expect(await broadcaster.collect(500, (f: any) => typeof f === "string" && f.startsWith("o-"))).toEqual(texts);
    broadcaster.close();
    manager.close();
  });

  it("delivers every message that got a 201, in order and once, through a kill -9 of the primary", async () => {
    const [a, b] = apps as [Tickwire, Tickwire];
    const watchers = [await sseClient(`${a.url}/events`), await sseClient(`${b.url}/events`)];
    const load = postContinuously([b.url, a.url]);
    await load.acceptedAtLeast(100, "100 posts accepted before the kill", 20_000);
    const old = await set.killPrimary();
    const killedAt = performance.now();
    const before = load.accepted.length;
    const promoted = await set.awaitPromotion(old);
    expect(promoted).not.toBe(old);
    // Back with nothing (no persistence): the sentinels make it a replica of the new master.
    if (restartOld) await set.nodes.get(old)!.start();
    await load.acceptedAtLeast(before + 100, "100 posts accepted after the promotion");
    await load.stop();
    const recoverMs = load.firstAcceptedAfter(killedAt);
    const figures = { replicas, restartOld, recoverMs, refusedDuringFailover: load.refused, acceptedBefore: before, acceptedTotal: load.accepted.length };
    console.log(JSON.stringify({ sentinelFailover: figures }));
    expect(load.refused).toBeGreaterThan(0);
    await expectEveryAcceptedOnce(load.accepted, watchers, b.url);
  }, 120_000);
});
