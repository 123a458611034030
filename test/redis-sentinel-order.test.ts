/**
 * Sentinel, a planned failover under one publisher's pipelined appends (`REDIS_MIN_REPLICAS=0`,
 * so no `WAIT` and its connection check): node-redis holds appends issued before the master
 * change and sends them to the new master after later ones. Those are stored out of order; they
 * must not be acknowledged, so that every acknowledged append is stored in the order it was
 * sent. Real redis-server processes: a primary, a replica, three sentinels.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { SentinelSet } from "../bench/support/redis-topology.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { silentLogger } from "../src/log.ts";
import { pipelineAppends } from "./support/pipelined-appends.ts";
import { until } from "./support/until.ts";

const set = new SentinelSet({ masterName: "tw", replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
let client: Redis;
beforeAll(async () => {
  await set.start();
  const sentinels = set.sentinelAddresses.split(",").map((address) => {
    const [host, port] = address.split(":");
    return { host: host!, port: Number(port) };
  });
  client = await connectRedis({ target: { mode: "sentinel", master: "tw", sentinels }, log: silentLogger, name: "sentinel-order" });
}, 60_000);
afterAll(async () => {
  client?.destroy();
  await set.dispose();
});

it("acknowledges only appends stored in the order they were sent, through a planned failover", async () => {
  const oldMaster = await set.masterPort();
  const pump = pipelineAppends(client, { prefix: "so", topic: "chat" });
  try {
    await until(() => pump.acked.length > 500, { message: "500 acks before the failover" });
    await set.sentinelNodes[0]!.cli("SENTINEL", "FAILOVER", "tw");
    await until(async () => (await set.masterPort()) !== oldMaster, { timeoutMs: 20_000, message: "a new master" });
    // Appends reach the new master (the client has followed the change).
    const promoted = set.nodes.get(await set.masterPort())!;
    const base = Number(await promoted.cli("XLEN", pump.key));
    await until(async () => Number(await promoted.cli("XLEN", pump.key)) > base + 3000, { timeoutMs: 20_000, message: "3000 appends on the new master" });
  } finally {
    await pump.stop();
  }
  const storedAcked = await pump.storedAcked();
  // (With no replica confirming a write, what the old master acknowledged after the promotion is
  // lost with it: that is what REDIS_MIN_REPLICAS is for, and the failover check reports it.)
  expect(storedAcked.length).toBeGreaterThan(3000);
  expect(storedAcked).toEqual([...storedAcked].sort((a, b) => a - b));
  const figures = { sent: pump.sent, acked: pump.acked.length, refused: pump.refusals.length, storedAcked: storedAcked.length };
  console.log(JSON.stringify({ sentinelOrder: figures }));
}, 60_000);
