/**
 * Acknowledged means replicated, across a reconnect: Redis `WAIT` counts only the writes of the
 * connection it runs on, so a `WAIT` sent after the writing connection dropped and reconnected,
 * here to another master (a failover, played by a TCP proxy switched between two primaries, each
 * with a replica, all real redis-server processes on their own ports), confirms a write that
 * no replica holds. Such a write must be refused, not confirmed.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { awaitReplicated, RedisNode } from "../bench/support/redis-topology.ts";
import { LogUnavailableError } from "../src/core/topic-log.ts";
import { connectRedis, type Redis } from "../src/infra/redis/client.ts";
import { ReplicaWait } from "../src/infra/redis/replica-wait.ts";
import { silentLogger } from "../src/log.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";

/** Resolves on `client`'s next `ready` (its reconnect). */
const nextReady = (client: Redis) =>
  new Promise<void>((resolve) => {
    const onReady = () => {
      client.off("ready", onReady);
      resolve();
    };
    client.on("ready", onReady);
  });

describe("ReplicaWait across a reconnect", () => {
  const [primary, replica, next, nextReplica] = [new RedisNode(), new RedisNode(), new RedisNode(), new RedisNode()];
  let proxy: TcpProxy;
  let client: Redis;
  beforeAll(async () => {
    await Promise.all([primary.start(), next.start()]);
    await replica.start(["--replicaof", "127.0.0.1", String(primary.port)]);
    await nextReplica.start(["--replicaof", "127.0.0.1", String(next.port)]);
    await Promise.all([awaitReplicated(primary.port), awaitReplicated(next.port)]);
    proxy = await TcpProxy.start(primary.port);
    client = await connectRedis({ url: `redis://127.0.0.1:${proxy.port}`, log: silentLogger, name: "wait-mark" });
  }, 30_000);
  afterAll(async () => {
    replica.proc?.kill("SIGCONT");
    client?.destroy();
    proxy?.stop();
    await Promise.all([primary, replica, next, nextReplica].map((node) => node.dispose()));
  });
  const wait = () => new ReplicaWait({ client, replicas: 1, timeoutMs: 300, route: "k" });

  it("confirms a write on an unbroken connection", async () => {
    expect(await wait().written(() => client.sendCommand<string>(["SET", "k", "1"]))).toBe("OK");
  });

  it("refuses a write whose connection moved to another master before its WAIT, which would have said 1", async () => {
    replica.proc!.kill("SIGSTOP"); // the write stays on the old master alone
    try {
      const replicas = wait();
      const outcome = replicas.written(async () => {
        const reply = await client.sendCommand<string>(["SET", "k", "2"]);
        const reconnected = nextReady(client);
        proxy.target = next.port;
        proxy.cut();
        proxy.restore();
        await reconnected;
        return reply;
      });
      const error = await outcome.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LogUnavailableError);
      expect((error as LogUnavailableError).message).toContain("connection changed");
      expect(replicas.short).toBe(1);
      // What a bare WAIT would have trusted: the new master's replica confirms at once, and
      // neither it nor the new master holds the write.
      expect(Number(await client.sendCommand(["WAIT", "1", "300"]))).toBe(1);
      expect(await client.sendCommand(["GET", "k"])).toBeNull();
      expect(await nextReplica.cli("GET", "k")).toBe("");
    } finally {
      replica.proc!.kill("SIGCONT");
    }
  });
});
