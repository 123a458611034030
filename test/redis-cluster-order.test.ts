/**
 * Cluster, a live move of the log's slot (three times) under one publisher's pipelined appends:
 * node-redis resends an append redirected by `MOVED` to the slot's new owner after appends sent
 * there since. Those are stored out of order; they must not be acknowledged, so that every
 * acknowledged append is stored, in the order it was sent. Real redis-server processes, three
 * masters, no replicas (a slot move loses nothing).
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { RedisCluster } from "../bench/support/redis-topology.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { silentLogger } from "../src/log.ts";
import { pipelineAppends } from "./support/pipelined-appends.ts";
import { until } from "./support/until.ts";

const cluster = new RedisCluster({ masters: 3, replicasPerMaster: 0, nodeTimeoutMs: 2000 });
let client: Redis;
beforeAll(async () => {
  await cluster.start();
  const seeds = cluster.seeds.split(",").map((address) => {
    const [host, port] = address.split(":");
    return { host: host!, port: Number(port) };
  });
  client = await connectRedis({ target: { mode: "cluster", seeds }, log: silentLogger, name: "cluster-order" });
}, 60_000);
afterAll(async () => {
  client?.destroy();
  await cluster.dispose();
});

it("acknowledges only appends stored in the order they were sent, through slot moves", async () => {
  const pump = pipelineAppends(client, { prefix: "{co}", topic: "chat" });
  try {
    const slot = await cluster.slotOf(pump.key);
    for (let round = 0; round < 3; round++) {
      const owner = await cluster.ownerOf(slot);
      const at = pump.acked.length;
      await until(() => pump.acked.length > at + 2000, { timeoutMs: 20_000, message: `2000 acks before move ${round + 1}` });
      await cluster.moveSlot(slot, cluster.ports.find((port) => port !== owner)!);
    }
    const at = pump.acked.length;
    await until(() => pump.acked.length > at + 2000, { timeoutMs: 20_000, message: "2000 acks after the last move" });
  } finally {
    await pump.stop();
  }
  const storedAcked = await pump.storedAcked();
  expect(storedAcked.length).toBe(pump.acked.length);
  expect(storedAcked).toEqual([...storedAcked].sort((a, b) => a - b));
  console.log(JSON.stringify({ clusterOrder: { sent: pump.sent, acked: pump.acked.length, refused: pump.refusals.length } }));
}, 90_000);
