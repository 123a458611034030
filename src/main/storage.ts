/**
 * Opening tickwire's storage, for `main.ts`: with `REDIS_URL` the durable topic logs are Redis
 * Streams shared by every instance and timer hot state lives in Redis hashes (each on its own
 * connection); without it the logs live in the embedded SQLite file (or, next to MySQL without
 * Redis, in memory). Then the timers database. Every opened resource pushes its disposer, so a
 * failure half-way is cleaned up by the caller.
 * @module
 */
import type { AppContext } from "../app/context.ts";
import { type Config, databaseUrl, redisTarget } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { MemoryTopicLog } from "../core/memory-topic-log.ts";
import type { TopicLog } from "../core/topic-log.ts";
import { RedisHotState } from "../features/timers/redis-hot-state.ts";
import { type Database, openDatabase } from "../infra/db/database.ts";
import { SqliteTopicLog } from "../infra/db/sqlite-topic-log.ts";
import type { Redis } from "../infra/redis/client.ts";
import { keyspaceOf, type RedisKeyspace } from "../infra/redis/keyspace.ts";
import { keepsEveryAck, persistenceWarning, redisPersistence } from "../infra/redis/persistence.ts";
import { RedisTopicLog } from "../infra/redis/topic-log.ts";
import type { Logger } from "../log.ts";

/** The root topics with a durable log (Redis: one stream each); others derive from them (`presence`: join/leave frames). */
export const DURABLE_TOPICS = ["chat", "relay", "timers", "presence"];

export interface StorageDeps {
  clock: Clock;
  log: Logger;
  disposers: (() => unknown)[];
  healthChecks: AppContext["healthChecks"];
  queueDepths: AppContext["queueDepths"];
  onHistoryRead: (source: "memory" | "redis") => void;
}

export interface Storage {
  topicLog: TopicLog;
  hotState: RedisHotState | undefined;
  database: Database;
  /** The Redis connection of the topic logs (also the chat id counter's and presence's), when Redis is configured. */
  redis: Redis | undefined;
  /** Where each feature's Redis keys live (hash tags in Cluster mode). */
  keyspace: RedisKeyspace | undefined;
}

export async function openStorage(config: Config, deps: StorageDeps): Promise<Storage> {
  const { clock, log, disposers, healthChecks } = deps;
  const target = redisTarget(config);
  if (!target) {
    // The timers database, migrated before any feature starts; the embedded logs share its file.
    const database = await openDb(config, deps);
    const topicLog: TopicLog =
      database.dialect === "sqlite"
        ? new SqliteTopicLog({
            db: database.db,
            historySize: config.historySize,
            clock,
            onListenerError: (err) => log.error({ err }, "topic log listener failed"),
          })
        : new MemoryTopicLog({ historySize: config.historySize, clock, onListenerError: (err) => log.error({ err }, "topic log listener failed") });
    disposers.push(() => topicLog.stop());
    return { topicLog, hotState: undefined, database, redis: undefined, keyspace: undefined };
  }
  // node-redis is loaded only here: the embedded mode never holds its code (see openDatabase).
  const { connectRedis, pingRedis } = await import("../infra/redis/client.ts");
  // A WAIT for replicas blocks this connection's commands for up to its timeout.
  const commandTimeoutMs = Math.max(5000, config.redisWaitTimeoutMs + 2000);
  const client = await connectRedis({ target, log, name: `tickwire-${config.streamPrefix}`, commandTimeoutMs });
  disposers.push(() => client.destroy());
  let redisLog: RedisTopicLog | undefined;
  // Up once Redis answers and the topic log takes appends again (checked after each reconnect).
  healthChecks.set("redis", async () => (await pingRedis(client)) && (redisLog?.accepting ?? true));
  // Say so when this Redis can lose acknowledged messages (nothing on disk, or not fsynced).
  const persistence = await redisPersistence(client);
  const persistenceRisk = persistenceWarning(persistence);
  if (persistenceRisk) log.warn({ redisPersistence: persistence.summary }, persistenceRisk);
  healthChecks.set("redis_persistence", async () => (keepsEveryAck(await redisPersistence(client)) ? true : "off"));
  const keyspace = keyspaceOf(config.streamPrefix, target.mode);
  redisLog = new RedisTopicLog({
    client,
    prefix: keyspace.log,
    minReplicas: config.redisMinReplicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
    topics: DURABLE_TOPICS,
    historySize: config.historySize,
    clock,
    log,
    onHistoryRead: deps.onHistoryRead,
  });
  disposers.push(() => redisLog.stop());
  await redisLog.start();
  deps.queueDepths.set("log_appends", () => redisLog.inFlight);
  const hot = new RedisHotState(await connectRedis({ target, log, name: "tickwire-timers" }), keyspace.hot);
  disposers.push(() => hot.stop());
  const database = await openDb(config, deps);
  return { topicLog: redisLog, hotState: hot, database, redis: client, keyspace };
}

async function openDb(config: Config, { disposers, healthChecks }: StorageDeps): Promise<Database> {
  const database = await openDatabase(databaseUrl(config), { queryTimeoutMs: config.dbQueryTimeoutMs });
  disposers.push(() => database.close());
  healthChecks.set("db", () => database.ping());
  return database;
}
