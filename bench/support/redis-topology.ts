/**
 * Real Redis topologies on free ports, for tickwire's tests and benchmarks (bench/ cannot import
 * test/, tests may import this). Every process is a real redis-server 7 (sentinels run as
 * `redis-server <conf> --sentinel`), bound to 127.0.0.1, keeping nothing on disk, with a
 * temporary folder of its own that `dispose()` removes.
 *
 *   const set = new SentinelSet({ masterName: "tw", replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
 *   await set.start();          // primary, replicas in sync, 3 sentinels (quorum 2) that know them all
 *   set.envValue;               // REDIS_SENTINEL: "tw@127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
 *   set.sentinelAddresses;      // "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"; also sentinelPorts
 *   set.primaryPort; set.replicaPorts;
 *   await set.masterPort();     // SENTINEL get-master-addr-by-name, from the first sentinel that answers
 *   const old = await set.killPrimary();            // SIGKILL of the current master
 *   const now = await set.awaitPromotion(old);      // every sentinel names another master, and it says role:master
 *   await set.failover();                           // SENTINEL FAILOVER (a planned switch, no crash)
 *   await set.awaitReplicated();                    // every replica has acknowledged what the master wrote so far
 *   await set.cli(port, "INFO", "replication");
 *   await set.dispose();                            // idempotent, for afterAll
 *
 *   const cluster = new RedisCluster({ masters: 3, replicasPerMaster: 0, nodeTimeoutMs: 2000 });
 *   await cluster.start();      // redis-cli --cluster create; every node cluster_state:ok and agreeing on slots
 *   cluster.seeds;              // REDIS_CLUSTER: "127.0.0.1:p1,127.0.0.1:p2,..."; also cluster.ports
 *   const slot = await cluster.slotOf("{tickwire}:chat");   // CLUSTER KEYSLOT
 *   await cluster.ownerOf(slot);                            // port of the master serving it
 *   await cluster.moveSlot(slot, otherMasterPort);          // live resharding of one slot, keys and all
 *   await cluster.awaitReplicated(port);                    // before a kill, so the replica has every write
 *   await cluster.killMaster(port); await cluster.awaitFailover(port); // needs replicasPerMaster >= 1
 *   await cluster.clusterCli("SET", "k", "v");              // redis-cli -c; cluster.cli(port, ...) without -c
 *   await cluster.dispose();
 *
 * Both also implement `Symbol.asyncDispose`. The building blocks (freePort, accepts, poll,
 * redisCli, RedisNode) live in redis-node.ts.
 * @module
 */
export { RedisCluster, type RedisClusterOptions } from "./redis-cluster.ts";
export { accepts, awaitReplicated, freePort, poll, RedisNode, redisCli } from "./redis-node.ts";
export { SentinelSet, type SentinelSetOptions } from "./redis-sentinel-set.ts";
