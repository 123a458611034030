/**
 * Issue #21, Cluster failover: three masters with two replicas each (one is left after a
 * failover, so `WAIT 1` can still succeed), two tickwire instances on `REDIS_CLUSTER` with
 * `REDIS_MIN_REPLICAS=1`, chat posted continuously on both. `kill -9` of the master serving the
 * topic logs' slot: posts meanwhile get 503 with `Retry-After`; once a replica took over, every
 * message that got a 201 reaches both instances' subscribers and a `Last-Event-ID` resume, in
 * order, none twice, and nobody is reset. Printed: time from the kill to the first 201 after
 * it, posts refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { RedisCluster } from "../bench/support/redis-topology.ts";
import type { Tickwire } from "../src/main.ts";
import { expectEveryAcceptedOnce, postContinuously } from "./support/chat-through-fault.ts";
import { startServer, uniquePrefix } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";

describe("Redis Cluster master failover with REDIS_MIN_REPLICAS=1", () => {
  const cluster = new RedisCluster({ masters: 3, replicasPerMaster: 2 });
  const prefix = uniquePrefix("rcluster-fo");
  const apps: Tickwire[] = [];
  beforeAll(async () => {
    await cluster.start();
    const env = { REDIS_CLUSTER: cluster.seeds, REDIS_MIN_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "500", STREAM_PREFIX: prefix };
    apps.push(await startServer(env), await startServer(env));
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await cluster.dispose();
  });

  it("delivers every message that got a 201, in order and once, through a kill -9 of the log's master", async () => {
    const [a, b] = apps as [Tickwire, Tickwire];
    const watchers = [await sseClient(`${a.url}/events`), await sseClient(`${b.url}/events`)];
    const load = postContinuously([b.url, a.url]);
    await load.acceptedAtLeast(100, "100 posts before the kill");
    const owner = await cluster.ownerOf(await cluster.slotOf(`{${prefix}}`));
    await cluster.killMaster(owner);
    const killedAt = performance.now();
    const before = load.accepted.length;
    expect(await cluster.awaitFailover(owner)).not.toBe(owner);
    await load.acceptedAtLeast(before + 100, "100 posts after the failover", 40_000);
    await load.stop();
    const recoverMs = load.firstAcceptedAfter(killedAt);
    console.log(JSON.stringify({ clusterFailover: { recoverMs, refused: load.refused, acceptedBefore: before, acceptedTotal: load.accepted.length } }));
    expect(load.refused).toBeGreaterThan(0);
    await expectEveryAcceptedOnce(load.accepted, watchers, b.url);
  }, 120_000);
});
