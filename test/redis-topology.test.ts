/**
 * The Redis topologies of bench/support/redis-topology.ts are real: a Sentinel set promotes its
 * replica when the primary is killed, and a 3-master cluster moves a slot with its keys to
 * another master while it serves them.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { RedisCluster, SentinelSet } from "../bench/support/redis-topology.ts";

describe("SentinelSet", () => {
  const set = new SentinelSet({ masterName: "tw", replicas: 1 });
  afterAll(() => set.dispose());

  it("promotes the replica once the primary is killed", async () => {
    await set.start();
    const [a, b, c] = set.sentinelPorts;
    expect(set.envValue).toBe(`tw@127.0.0.1:${a},127.0.0.1:${b},127.0.0.1:${c}`);
    expect(await set.masterPort()).toBe(set.primaryPort);
    expect(await set.cli(set.primaryPort, "SET", "k", "before")).toBe("OK");
    await set.awaitReplicated(); // else the replica may be promoted without the write

    const started = performance.now();
    const old = await set.killPrimary();
    const promoted = await set.awaitPromotion(old);
    console.log(`sentinel failover: ${promoted} promoted ${Math.round(performance.now() - started)} ms after ${old} was killed`);

    expect({ old, promoted }).toEqual({ old: set.primaryPort, promoted: set.replicaPorts[0]! });
    expect(await set.cli(promoted, "GET", "k")).toBe("before");
    expect(await set.cli(promoted, "SET", "k", "after")).toBe("OK");
  }, 60_000);
});

describe("RedisCluster", () => {
  const cluster = new RedisCluster({ masters: 3 });
  afterAll(() => cluster.dispose());

  it("moves the slot of {tickwire} with its keys to another master", async () => {
    await cluster.start();
    expect(cluster.seeds.split(",")).toEqual(cluster.ports.map((p) => `127.0.0.1:${p}`));
    const keys = { "{tickwire}:chat": "hello", "{tickwire}:cron": "tick", other: "x", "another:key": "y" };
    for (const [k, v] of Object.entries(keys)) expect(await cluster.clusterCli("SET", k, v)).toBe("OK");

    const slot = await cluster.slotOf("{tickwire}");
    expect(await cluster.slotOf("{tickwire}:chat")).toBe(slot);
    const from = await cluster.ownerOf(slot);
    const to = cluster.ports.find((p) => p !== from)!;
    await cluster.moveSlot(slot, to);

    expect(await cluster.ownerOf(slot)).toBe(to);
    expect([await cluster.cli(to, "GET", "{tickwire}:chat"), await cluster.cli(to, "GET", "{tickwire}:cron")]).toEqual(["hello", "tick"]);
    expect(await cluster.cli(from, "GET", "{tickwire}:chat")).toStartWith("MOVED");
    const read = await Promise.all(Object.keys(keys).map((k) => cluster.clusterCli("GET", k)));
    expect(read).toEqual(Object.values(keys));
  }, 60_000);
});

describe("RedisCluster with replicas", () => {
  const cluster = new RedisCluster({ masters: 3, replicasPerMaster: 1 });
  afterAll(() => cluster.dispose());

  it("fails over to the replica of a killed master, keeping its keys", async () => {
    await cluster.start();
    expect(await cluster.clusterCli("SET", "{tickwire}:chat", "hello")).toBe("OK");
    const slot = await cluster.slotOf("{tickwire}:chat");
    const old = await cluster.ownerOf(slot);
    await cluster.awaitReplicated(old); // else the replica may be promoted without the write

    const started = performance.now();
    await cluster.killMaster(old);
    const promoted = await cluster.awaitFailover(old);
    console.log(`cluster failover: ${promoted} took over ${Math.round(performance.now() - started)} ms after ${old} was killed`);

    expect(promoted).not.toBe(old);
    expect(await cluster.cli(promoted, "GET", "{tickwire}:chat")).toBe("hello");
  }, 60_000);
});
