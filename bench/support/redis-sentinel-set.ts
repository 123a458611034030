/**
 * A real Redis Sentinel topology on free ports: one primary, N replicas and (by default) three
 * sentinels with a quorum of 2. See redis-topology.ts for the whole API and an example.
 *
 * There is no redis-sentinel binary on the machine: a sentinel is `redis-server <conf>
 * --sentinel`, and its config file must be writable (a sentinel rewrites it with what it learns),
 * so each one gets its own in its node's temporary folder.
 * @module
 */
import { join } from "node:path";
import { awaitReplicated, expectOk, freePort, parseInfo, poll, RedisNode, redisCli } from "./redis-node.ts";

export interface SentinelSetOptions {
  /** The name sentinels monitor the primary under (default "tw"). */
  masterName?: string;
  /** Replicas of the primary (default 1); a failover needs at least one. */
  replicas?: number;
  /** Sentinels (default 3); the quorum is a majority of them (2 of 3). */
  sentinels?: number;
  /** How long a silent primary takes to be thought down (default 1000 ms: fast failovers in tests). */
  downAfterMs?: number;
  /** Sentinel failover-timeout (default 3000 ms). */
  failoverTimeoutMs?: number;
}

export class SentinelSet {
  readonly masterName: string;
  /** Redis data nodes by port: the first primary, then its replicas. */
  readonly nodes = new Map<number, RedisNode>();
  readonly sentinelNodes: RedisNode[] = [];
  private readonly opts: Required<SentinelSetOptions>;
  private disposed = false;

  constructor(options: SentinelSetOptions = {}) {
    this.opts = { masterName: "tw", replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000, ...options };
    this.masterName = this.opts.masterName;
  }

  /** The port of the primary as started (after a failover, ask `masterPort()`). */
  get primaryPort(): number {
    return [...this.nodes.keys()][0]!;
  }

  /** Ports of the replicas as started. */
  get replicaPorts(): number[] {
    return [...this.nodes.keys()].slice(1);
  }

  get sentinelPorts(): number[] {
    return this.sentinelNodes.map((s) => s.port);
  }

  /** "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3" */
  get sentinelAddresses(): string {
    return this.sentinelNodes.map((s) => s.address).join(",");
  }

  /** The REDIS_SENTINEL value for tickwire: "<masterName>@127.0.0.1:p1,127.0.0.1:p2,...". */
  get envValue(): string {
    return `${this.masterName}@${this.sentinelAddresses}`;
  }

  /** Starts primary, replicas (in sync) and sentinels (each knowing every replica and every other sentinel). */
  async start(): Promise<void> {
    const { replicas, sentinels, masterName, downAfterMs, failoverTimeoutMs } = this.opts;
    const primary = new RedisNode();
    this.nodes.set(primary.port, primary);
    await primary.start();
    const replicaNodes = Array.from({ length: replicas }, () => new RedisNode());
    for (const r of replicaNodes) this.nodes.set(r.port, r);
    await Promise.all(replicaNodes.map((r) => r.start(["--replicaof", "127.0.0.1", String(primary.port)])));
    await Promise.all(
      replicaNodes.map((r) =>
        poll(async () => parseInfo(await r.cli("INFO", "replication")).get("master_link_status") === "up", {
          message: `replica ${r.port} to be in sync with ${primary.port}`,
        }),
      ),
    );

    const quorum = Math.floor(sentinels / 2) + 1;
    for (let i = 0; i < sentinels; i++) this.sentinelNodes.push(new RedisNode(freePort()));
    await Promise.all(
      this.sentinelNodes.map(async (s) => {
        const conf = join(s.dir, "sentinel.conf");
        await Bun.write(
          conf,
          [
            `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} ${quorum}`,
            `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
            `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
            `sentinel parallel-syncs ${masterName} 1`,
            "",
          ].join("\n"),
        );
        await s.start(["--sentinel"], conf);
      }),
    );
    await Promise.all(this.sentinelNodes.map((s) => this.awaitSentinelReady(s)));
  }

  /**
   * A sentinel is ready once `INFO sentinel` counts every replica and every sentinel (itself
   * included) with status ok, and `SENTINEL replicas` shows each replica connected with its link
   * to the primary up: only then can it vote in, and carry out, a failover.
   */
  private awaitSentinelReady(s: RedisNode): Promise<boolean> {
    const { replicas, sentinels, masterName } = this.opts;
    return poll(
      async () => {
        const line = parseInfo(await s.cli("INFO", "sentinel")).get("master0") ?? "";
        const fields = new Map(line.split(",").map((kv) => kv.split("=") as [string, string]));
        if (fields.get("status") !== "ok" || Number(fields.get("slaves")) !== replicas) return false;
        if (Number(fields.get("sentinels")) !== sentinels) return false;
        const flat = (await s.cli("SENTINEL", "replicas", masterName)).split(/\r?\n/);
        const valuesOf = (key: string) => flat.flatMap((v, i) => (v === key ? [flat[i + 1]] : []));
        return valuesOf("flags").every((f) => f === "slave") && valuesOf("master-link-status").every((m) => m === "ok");
      },
      { message: `sentinel ${s.port} to know ${replicas} replica(s) and ${sentinels - 1} other sentinel(s)` },
    );
  }

  /** The master's port as the first sentinel that answers sees it. */
  async masterPort(): Promise<number> {
    for (const s of this.sentinelNodes) {
      if (!s.alive) continue;
      try {
        return await this.masterPortSeenBy(s);
      } catch {}
    }
    throw new Error("no sentinel answered SENTINEL get-master-addr-by-name");
  }

  private async masterPortSeenBy(s: RedisNode): Promise<number> {
    const [, port] = (await s.cli("SENTINEL", "get-master-addr-by-name", this.masterName)).split(/\r?\n/);
    const n = Number(port);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`sentinel ${s.port} knows no master ${this.masterName}`);
    return n;
  }

  /** SIGKILLs the current master's process; resolves with its port. */
  async killPrimary(): Promise<number> {
    const port = await this.masterPort();
    const node = this.nodes.get(port);
    if (!node) throw new Error(`master ${port} is not one of this set's nodes`);
    await node.kill();
    return port;
  }

  /**
   * Resolves with the new master's port once every live sentinel names a master other than
   * `oldPort`, all the same one, and that node says `role:master`.
   */
  async awaitPromotion(oldPort: number, timeoutMs = 30_000): Promise<number> {
    return poll(
      async () => {
        const seen = await Promise.all(this.sentinelNodes.filter((s) => s.alive).map((s) => this.masterPortSeenBy(s)));
        const port = seen[0];
        if (port === undefined || port === oldPort || seen.some((p) => p !== port)) return 0;
        return parseInfo(await redisCli(port, ["INFO", "replication"])).get("role") === "master" ? port : 0;
      },
      { timeoutMs, message: `sentinels to promote a new master in place of ${oldPort}` },
    );
  }

  /** Resolves once every replica of the master on `port` (the current master by default) has all it wrote so far. */
  async awaitReplicated(port?: number): Promise<void> {
    await awaitReplicated(port ?? (await this.masterPort()));
  }

  /** One command through redis-cli against any port (a node or a sentinel). */
  cli(port: number, ...args: string[]): Promise<string> {
    return redisCli(port, args);
  }

  /** Asks sentinel `sentinelPort` to fail over now, without a crash (SENTINEL FAILOVER). */
  failover(sentinelPort = this.sentinelPorts[0]!): Promise<void> {
    return expectOk(sentinelPort, ["SENTINEL", "FAILOVER", this.masterName]);
  }

  /** Kills every process and removes every temporary folder; idempotent, for afterAll. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all([...this.sentinelNodes, ...this.nodes.values()].map((n) => n.dispose()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
