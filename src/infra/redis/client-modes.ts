/**
 * The three node-redis clients behind `client.ts`'s `Redis`: `createClient` for one server,
 * `createSentinel` for a Sentinel-watched master (a pool of one master connection, no replica
 * reads: every command must see every acknowledged write), and `createCluster` for a Cluster
 * (commands routed by their first key, `route-key.ts`). All share the same fault policy: no
 * offline queue, capped reconnect backoff, a per-command timeout.
 * @module
 */
import { createClient, createCluster, createSentinel } from "redis";
import type { RedisTarget } from "../../config/index.ts";
import { hashSlot, routeKey } from "./route-key.ts";
import { SentinelGate } from "./sentinel-gate.ts";

/** What `client.ts` needs of a node-redis client of any topology. */
export interface RawRedis {
  client: {
    readonly isReady: boolean;
    on(event: string, listener: (...args: never[]) => void): unknown;
    off(event: string, listener: (...args: never[]) => void): unknown;
    connect(): Promise<unknown>;
    close(): Promise<unknown>;
    destroy(): unknown;
  };
  send(args: string[], route?: string): Promise<unknown>;
  /** Commands can be sent (connected, and for Sentinel: a master is known to answer). */
  ready(): boolean;
  /**
   * Which connection a write routed by `route` goes over now: it changes whenever a connection
   * dropped (counted before any reconnect) and, in Cluster mode, when the route's slot moved.
   */
  mark(route?: string): string;
}

const socket = {
  connectTimeout: 5000,
  reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
};

/** A not yet connected client for `target`. */
export function openRaw(target: RedisTarget, name: string, timeout: number): RawRedis {
  const commandOptions = { timeout };
  switch (target.mode) {
    case "single": {
      const client = createClient({ url: target.url, name, disableOfflineQueue: true, commandOptions, socket });
      let drops = 0;
      client.on("error", () => drops++);
      return { client: client as unknown as RawRedis["client"], send: (args) => client.sendCommand(args), ready: () => client.isReady, mark: () => `${drops}` };
    }
    case "sentinel": {
      const { username, password } = target;
      const client = createSentinel({
        name: target.master,
        sentinelRootNodes: target.sentinels,
        masterPoolSize: 1,
        replicaPoolSize: 0,
        // One connection held for good: commands leave in the order they were sent. (Without it,
        // each burst first takes a lease on the connection, and commands sent while one waits for
        // it overtake it: one publisher's messages were stored out of order.)
        reserveClient: true,
        // Never re-send a failed command to the next master (see sentinel-gate.ts).
        maxCommandRediscovers: 0,
        commandOptions,
        // No reconnecting to a lost master's address by itself: it may come back as an empty master
        // or a replica. The client asks the sentinels again instead (on the next command).
        nodeClientOptions: { name, username, password, disableOfflineQueue: true, socket: { ...socket, reconnectStrategy: false } },
        sentinelClientOptions: { socket },
      });
      const gate = new SentinelGate(
        () => client.sendCommand(false, ["PING"]),
        () => client.emit("ready"),
      );
      let drops = 0;
      client.on("client-error", (event: { type: string }) => {
        if (event.type !== "MASTER") return;
        drops++;
        gate.down();
      });
      // A new master without a dropped connection (its old one demoted): another connection too.
      client.on("topology-change", (event: { type: string }) => {
        if (event.type === "MASTER_CHANGE") drops++;
      });
      client.on("end", () => gate.close());
      const unavailable = () => Promise.reject(new Error("no redis master reachable (sentinel failover in progress?)"));
      return {
        client: client as unknown as RawRedis["client"],
        send: (args) => (gate.up ? client.sendCommand(false, args) : unavailable()),
        ready: () => gate.up && client.isReady,
        mark: () => `${drops}`,
      };
    }
    case "cluster": {
      const { username, password } = target;
      const client = createCluster({
        rootNodes: target.seeds.map((node) => ({ socket: { ...socket, ...node } })),
        defaults: { name, username, password, disableOfflineQueue: true, socket },
        commandOptions,
        useReplicas: false,
        // A master that stops answering: re-read the slot map soon (default 5 s), to find its replica promoted.
        topologyRefreshOnReconnectionAttemptStrategy: 500,
      });
      // A node's connection errors come as `node-error`: surface them as errors of the cluster, as
      // the other clients do (the topic log holds appends until its tailer checked the streams).
      let drops = 0;
      client.on("node-error", (err: unknown) => {
        drops++;
        client.emit("error", err);
      });
      return {
        client: client as unknown as RawRedis["client"],
        // With `route` (WAIT): on that node's own connection, the one its writes went over (a raw
        // WAIT would be sent to every shard and answer the smallest count).
        send: (args, route) =>
          route === undefined ? client.sendCommand(routeKey(args), false, args) : client.getNodeClientForKey(route).then((node) => node.sendCommand(args)),
        ready: () => client.isReady,
        mark: (route) => {
          const master = route === undefined || !client.isReady ? undefined : client.getSlotMaster(hashSlot(route));
          return `${drops}@${master?.host}:${master?.port}`;
        },
      };
    }
  }
}
