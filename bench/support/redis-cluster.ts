/**
 * A real Redis Cluster on free ports: `masters` masters with `replicasPerMaster` replicas each,
 * created by `redis-cli --cluster create`, plus a live resharding of one slot (`moveSlot`) and a
 * master crash with replica failover (`killMaster` / `awaitFailover`). See redis-topology.ts for
 * the whole API and an example.
 *
 * Each node gets its cluster bus port from `--cluster-port` (Redis 7) instead of the default
 * port + 10000, which can be taken or past 65535 when ports come from the ephemeral range.
 * @module
 */
import { join } from "node:path";
import { awaitReplicated, expectOk, freePort, parseInfo, poll, RedisNode, redisCli } from "./redis-node.ts";

export interface RedisClusterOptions {
  /** Masters (default 3, the least redis-cli accepts). */
  masters?: number;
  /** Replicas of each master (default 0); `killMaster` needs at least 1. */
  replicasPerMaster?: number;
  /** cluster-node-timeout (default 2000 ms): how long a silent master takes to fail over. */
  nodeTimeoutMs?: number;
}

/** One line of CLUSTER NODES: a node's port, role, failure flags and the slots it serves. */
interface NodeView {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  ranges: [number, number][];
}

function parseClusterNodes(text: string): NodeView[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line) => {
      const [id, addr, flags, , , , , , ...slots] = line.trim().split(" ");
      const flagList = flags!.split(",");
      const ranges = slots
        .filter((s) => !s.startsWith("[")) // "[slot->-id]" / "[slot-<-id]": a migration under way
        .map((s) => s.split("-").map(Number))
        .map(([a, b]) => [a!, b ?? a!] as [number, number]);
      return {
        id: id!,
        port: Number(addr!.split("@")[0]!.split(":")[1]),
        master: flagList.includes("master"),
        failed: flagList.includes("fail") || flagList.includes("fail?"),
        ranges,
      };
    });
}

export class RedisCluster {
  readonly nodes: RedisNode[] = [];
  private readonly opts: Required<RedisClusterOptions>;
  /** A slot of each killed master, for `awaitFailover`. */
  private readonly slotOfKilled = new Map<number, number>();
  private disposed = false;

  constructor(options: RedisClusterOptions = {}) {
    this.opts = { masters: 3, replicasPerMaster: 0, nodeTimeoutMs: 2000, ...options };
  }

  /** Ports of every node as started (masters and replicas). */
  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  /** The REDIS_CLUSTER value for tickwire: "127.0.0.1:p1,127.0.0.1:p2,...". */
  get seeds(): string {
    return this.nodes.map((n) => n.address).join(",");
  }

  private get alive(): RedisNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  /** Starts the nodes, creates the cluster and resolves once every node is ok and agrees on the slots. */
  async start(): Promise<void> {
    const { masters, replicasPerMaster, nodeTimeoutMs } = this.opts;
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) this.nodes.push(new RedisNode());
    await Promise.all(
      this.nodes.map((n) =>
        n.start([
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(n.dir, "nodes.conf"),
          "--cluster-node-timeout",
          String(nodeTimeoutMs),
          "--cluster-port",
          String(freePort()),
        ]),
      ),
    );
    const create = Bun.spawn(
      ["redis-cli", "--cluster", "create", ...this.nodes.map((n) => n.address), "--cluster-replicas", String(replicasPerMaster), "--cluster-yes"],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([new Response(create.stdout).text(), new Response(create.stderr).text(), create.exited]);
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}: ${err.trim()} ${out.slice(-500)}`);
    await this.awaitAgreement("the new cluster to be ok on every node");
    await Promise.all(
      this.nodes.map((n) =>
        poll(
          async () => {
            const info = parseInfo(await n.cli("INFO", "replication"));
            return info.get("role") === "master" || info.get("master_link_status") === "up";
          },
          { message: `replica ${n.port} to be in sync` },
        ),
      ),
    );
  }

  /**
   * Resolves with the slot map once every live node says `cluster_state:ok` and reports the same
   * masters serving the same slots (16384 in all), with no migration under way.
   */
  private awaitAgreement(message: string, timeoutMs = 30_000): Promise<NodeView[]> {
    return poll(
      async () => {
        const views = await Promise.all(
          this.alive.map(async (n) => {
            const info = parseInfo(await n.cli("CLUSTER", "INFO"));
            if (info.get("cluster_state") !== "ok") return undefined;
            const text = await n.cli("CLUSTER", "NODES");
            return text.includes("[") ? undefined : parseClusterNodes(text);
          }),
        );
        if (views.some((v) => !v)) return undefined;
        const signature = (v: NodeView[]) =>
          v
            .filter((n) => n.master && n.ranges.length > 0)
            .map((n) => `${n.port}:${n.ranges.map((r) => r.join("-")).join(",")}`)
            .sort()
            .join(" ");
        const first = signature(views[0]!);
        const covered = views[0]!.reduce((sum, n) => sum + n.ranges.reduce((s, [a, b]) => s + b - a + 1, 0), 0);
        return covered === 16384 && views.every((v) => signature(v!) === first) ? views[0] : undefined;
      },
      { timeoutMs, message },
    );
  }

  private async view(): Promise<NodeView[]> {
    const node = this.alive[0];
    if (!node) throw new Error("no live cluster node");
    return parseClusterNodes(await node.cli("CLUSTER", "NODES"));
  }

  /** CLUSTER KEYSLOT: the slot `key` hashes to. */
  async slotOf(key: string): Promise<number> {
    return Number(await this.alive[0]!.cli("CLUSTER", "KEYSLOT", key));
  }

  /** The port of the master serving `slot`, as the first live node sees it. */
  async ownerOf(slot: number, views?: NodeView[]): Promise<number> {
    const owner = (views ?? (await this.view())).find((n) => n.master && !n.failed && n.ranges.some(([a, b]) => slot >= a && slot <= b));
    if (!owner) throw new Error(`no master serves slot ${slot}`);
    return owner.port;
  }

  /**
   * Live resharding of one slot to the master on `toPort`: IMPORTING on the target, MIGRATING on
   * the source, MIGRATE its keys in batches until none is left, then SETSLOT NODE on every master
   * (target first, so it never refuses the slot's keys). Resolves once every node agrees.
   * Keys are read line by line from redis-cli, so they must not contain newlines.
   */
  async moveSlot(slot: number, toPort: number): Promise<void> {
    const views = await this.view();
    const fromPort = await this.ownerOf(slot, views);
    if (fromPort === toPort) return;
    const idOf = (port: number) => {
      const id = views.find((n) => n.port === port)?.id;
      if (!id) throw new Error(`no cluster node on port ${port}`);
      return id;
    };
    const [fromId, toId] = [idOf(fromPort), idOf(toPort)];
    const s = String(slot);
    await expectOk(toPort, ["CLUSTER", "SETSLOT", s, "IMPORTING", fromId]);
    await expectOk(fromPort, ["CLUSTER", "SETSLOT", s, "MIGRATING", toId]);
    for (;;) {
      const keys = (await redisCli(fromPort, ["CLUSTER", "GETKEYSINSLOT", s, "100"])).split(/\r?\n/).filter(Boolean);
      if (keys.length === 0) break;
      await expectOk(fromPort, ["MIGRATE", "127.0.0.1", String(toPort), "", "0", "5000", "REPLACE", "KEYS", ...keys], ["NOKEY"]);
    }
    const masters = views.filter((n) => n.master && !n.failed && this.nodes.some((m) => m.port === n.port && m.alive));
    const order = [toPort, fromPort, ...masters.map((m) => m.port).filter((p) => p !== toPort && p !== fromPort)];
    for (const port of order) await expectOk(port, ["CLUSTER", "SETSLOT", s, "NODE", toId]);
    await poll(async () => (await this.awaitAgreement(`every node to agree slot ${slot} moved`, 2000).then((v) => this.ownerOf(slot, v))) === toPort, {
      message: `every node to see slot ${slot} served by ${toPort}`,
    });
  }

  /** SIGKILLs the master on `port` (which needs a replica to fail over to). */
  async killMaster(port: number): Promise<void> {
    const me = (await this.view()).find((n) => n.port === port);
    if (!me?.master || me.ranges.length === 0) throw new Error(`${port} is not a master serving slots`);
    const node = this.nodes.find((n) => n.port === port)!;
    this.slotOfKilled.set(port, me.ranges[0]![0]);
    await node.kill();
  }

  /** Resolves with the port of the replica promoted in place of `oldPort`, once every live node agrees and the cluster is ok. */
  async awaitFailover(oldPort: number, timeoutMs = 30_000): Promise<number> {
    const slot = this.slotOfKilled.get(oldPort);
    if (slot === undefined) throw new Error(`${oldPort} was not killed with killMaster`);
    return poll(
      async () => {
        const views = await this.awaitAgreement(`the cluster to be ok after ${oldPort} died`, 2000);
        const port = await this.ownerOf(slot, views);
        if (port === oldPort) return 0;
        return parseInfo(await redisCli(port, ["INFO", "replication"])).get("role") === "master" ? port : 0;
      },
      { timeoutMs, message: `a replica to take over the slots of ${oldPort}` },
    );
  }

  /** Resolves once every replica of the master on `port` has all it wrote so far (before `killMaster`, so nothing is lost). */
  awaitReplicated(port: number): Promise<void> {
    return awaitReplicated(port);
  }

  /** One command through redis-cli against `port`. */
  cli(port: number, ...args: string[]): Promise<string> {
    return redisCli(port, args);
  }

  /** One command through `redis-cli -c` (following MOVED / ASK) against the first live node. */
  clusterCli(...args: string[]): Promise<string> {
    return redisCli(this.alive[0]!.port, args, ["-c"]);
  }

  /** Kills every node and removes every temporary folder; idempotent, for afterAll. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.nodes.map((n) => n.dispose()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
