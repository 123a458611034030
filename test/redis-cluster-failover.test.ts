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
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { startServer, uniquePrefix } from "./support/server.ts";
import { type SseEvent, sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";

const post = (url: string, content: string) =>
  fetch(`${url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });

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
    const accepted: string[] = [];
    const acceptedAt: number[] = [];
    let refused = 0;
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const res = await post(i % 2 ? a.url : b.url, `f${w}-${i}`);
        if (res.status === 201) {
          accepted.push(((await res.json()) as { seq: string }).seq);
          acceptedAt.push(performance.now());
        } else {
          expect(res.status).toBe(503);
          expect(res.headers.get("retry-after")).toBeTruthy();
          await res.body?.cancel();
          refused++;
        }
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => worker(w));
    await until(() => accepted.length >= 100, { message: "100 posts before the kill", timeoutMs: 20_000 });
    const owner = await cluster.ownerOf(await cluster.slotOf(`{${prefix}}`));
    await cluster.killMaster(owner);
    const killedAt = performance.now();
    const before = accepted.length;
    expect(await cluster.awaitFailover(owner)).not.toBe(owner);
    await until(() => accepted.length >= before + 100, { message: "100 posts after the failover", timeoutMs: 40_000 });
    running = false;
    await Promise.all(workers);
    const recoverMs = Math.round((acceptedAt.slice(before).find((t) => t > killedAt) ?? Number.NaN) - killedAt);
    console.log(JSON.stringify({ clusterFailover: { recoverMs, refused, acceptedBefore: before, acceptedTotal: accepted.length } }));
    expect(refused).toBeGreaterThan(0);

    const inLogOrder = [...accepted].sort(compareSeq);
    const acceptedSet = new Set(accepted);
    const check = (events: SseEvent[]) => {
      const seqs = events.filter((e) => typeof e.json?.seq === "string").map((e) => e.json.seq as string);
      expect(new Set(seqs).size).toBe(seqs.length);
      return seqs.filter((s) => acceptedSet.has(s));
    };
    for (const watcher of watchers) {
      await until(() => check(watcher.events).length === accepted.length, { message: "a watcher to get every accepted message", timeoutMs: 20_000 });
      expect(check(watcher.events)).toEqual(inLogOrder);
      expect(watcher.events.some((e) => e.event === "overflow" || e.event === "recovered")).toBe(false);
      watcher.close();
    }
    const from = watchers[0]!.events.find((e) => e.json?.seq === inLogOrder[49])!;
    const resumed = await sseClient(`${b.url}/events`, { "Last-Event-ID": from.id ?? inLogOrder[49]! });
    await until(() => check(resumed.events).length >= inLogOrder.length - 50, { message: "the resumed client to get the rest", timeoutMs: 20_000 });
    expect(check(resumed.events)).toEqual(inLogOrder.slice(50));
    resumed.close();
  }, 120_000);
});
