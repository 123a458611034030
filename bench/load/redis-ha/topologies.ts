/**
 * The Redis topologies the redis-ha benchmark compares, each started once for the whole run on
 * free ports (bench/support/redis-topology.ts), and what a tickwire process needs to use one:
 * - `single`: one dedicated redis-server plus one replica (`--replicaof`), tickwire on
 *   `REDIS_URL` of the primary;
 * - `sentinel`: a `SentinelSet`, primary + 1 replica + 3 sentinels, tickwire on `REDIS_SENTINEL`;
 * - `cluster`: a `RedisCluster`, 3 masters with 1 replica each, tickwire on `REDIS_CLUSTER`.
 * Every topology has a replica behind each master, for `REDIS_MIN_REPLICAS=0` as well as 1: the
 * two settings then run against the same processes, and their difference is the WAIT alone.
 * A topology that fails to start is kept with its error, so its variants can say why they have
 * no numbers.
 * @module
 */
import { processCpuMs } from "../../support/machine-cpu.ts";
import { awaitReplicated, parseInfo, poll, redisCli } from "../../support/redis-node.ts";
import { RedisCluster, RedisNode, SentinelSet } from "../../support/redis-topology.ts";

export type TopologyKind = "single" | "sentinel" | "cluster";
export const TOPOLOGY_KINDS: TopologyKind[] = ["single", "sentinel", "cluster"];

export interface Topology {
  kind: TopologyKind;
  /** What it is, for the results (ports included). */
  describe: string;
  /** The Redis settings for tickwire (`REDIS_URL`, `REDIS_SENTINEL` or `REDIS_CLUSTER`). */
  env: Record<string, string>;
  /** Redis data nodes (not sentinels): their CPU is summed per measured phase. */
  dataPids(): number[];
  /** Ports of the same nodes: their `WAIT` calls are counted per measured phase. */
  dataPorts(): number[];
  dispose(): Promise<void>;
}

/** A topology, or why it could not be started. */
export type Started = { ok: true; topology: Topology } | { ok: false; kind: TopologyKind; error: string };

/** CPU (user + system) used so far by the processes `pids`, ms. */
export async function cpuMsOf(pids: number[]): Promise<number> {
  const each = await Promise.all(pids.map(processCpuMs));
  return each.reduce((a, b) => a + b, 0);
}

/**
 * `WAIT` calls the nodes on `ports` have served so far (INFO commandstats): proof that a
 * `REDIS_MIN_REPLICAS=1` variant waited, and how many appends shared each WAIT (group commit).
 */
export async function waitCallsOf(ports: number[]): Promise<number> {
  const each = await Promise.all(ports.map(async (port) => parseInfo(await redisCli(port, ["INFO", "commandstats"])).get("cmdstat_wait") ?? ""));
  return each.reduce((n, stat) => n + Number(/calls=(\d+)/.exec(stat)?.[1] ?? 0), 0);
}

const pidsOf = (nodes: Iterable<RedisNode>) => [...nodes].flatMap((n) => (n.proc ? [n.proc.pid] : []));

async function startSingle(): Promise<Topology> {
  const primary = new RedisNode();
  const replica = new RedisNode();
  try {
    await primary.start();
    await replica.start(["--replicaof", "127.0.0.1", String(primary.port)]);
    await poll(async () => parseInfo(await replica.cli("INFO", "replication")).get("master_link_status") === "up", {
      message: `replica ${replica.port} to be in sync with ${primary.port}`,
    });
    await awaitReplicated(primary.port);
  } catch (error) {
    await Promise.all([primary.dispose(), replica.dispose()]);
    throw error;
  }
  return {
    kind: "single",
    describe: `redis-server ${primary.port} + replica ${replica.port}`,
    env: { REDIS_URL: `redis://127.0.0.1:${primary.port}` },
    dataPids: () => pidsOf([primary, replica]),
    dataPorts: () => [primary.port, replica.port],
    dispose: async () => void (await Promise.all([primary.dispose(), replica.dispose()])),
  };
}

async function startSentinel(): Promise<Topology> {
  // Failover timings are irrelevant here (nothing is killed): the defaults of the tests.
  const set = new SentinelSet({ masterName: "bench", replicas: 1, sentinels: 3 });
  try {
    await set.start();
  } catch (error) {
    await set.dispose();
    throw error;
  }
  return {
    kind: "sentinel",
    describe: `primary ${set.primaryPort} + replica ${set.replicaPorts.join(",")}, sentinels ${set.sentinelPorts.join(",")}`,
    env: { REDIS_SENTINEL: set.envValue },
    dataPids: () => pidsOf(set.nodes.values()),
    dataPorts: () => [...set.nodes.keys()],
    dispose: () => set.dispose(),
  };
}

async function startCluster(): Promise<Topology> {
  const cluster = new RedisCluster({ masters: 3, replicasPerMaster: 1 });
  try {
    await cluster.start();
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
  return {
    kind: "cluster",
    describe: `3 masters × 1 replica on ${cluster.ports.join(",")}`,
    env: { REDIS_CLUSTER: cluster.seeds },
    dataPids: () => pidsOf(cluster.nodes),
    dataPorts: () => cluster.ports,
    dispose: () => cluster.dispose(),
  };
}

const STARTERS: Record<TopologyKind, () => Promise<Topology>> = { single: startSingle, sentinel: startSentinel, cluster: startCluster };

/** Starts each of `kinds`, one after the other (they share two cores with nothing else yet). */
export async function startTopologies(kinds: TopologyKind[]): Promise<Map<TopologyKind, Started>> {
  const started = new Map<TopologyKind, Started>();
  for (const kind of kinds) {
    const t0 = performance.now();
    try {
      const topology = await STARTERS[kind]();
      started.set(kind, { ok: true, topology });
      console.error(`${kind}: ${topology.describe} (${Math.round(performance.now() - t0)} ms)`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      started.set(kind, { ok: false, kind, error: message });
      console.error(`${kind}: failed to start: ${message}`);
    }
  }
  return started;
}
