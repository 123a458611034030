/**
 * What the Redis behind tickwire keeps on disk, read with `CONFIG GET appendonly`,
 * `CONFIG GET appendfsync` and `CONFIG GET save`, and what that means for acknowledged messages.
 * (The table for operators is in docs/operations.md, "Redis durability: what each setting loses".)
 *
 * Intended use, in `src/main.ts` once the Redis command client is connected (REDIS_URL set):
 * - at start, `redisPersistence(client)` once, and `log.warn` with `persistenceWarning(p)` when it
 *   returns a text (Redis keeps nothing on disk, fsyncs only every second or never, keeps only RDB
 *   snapshots, or its settings cannot be read), along with `p.summary`;
 * - a `/health` check `redis_persistence` that runs `redisPersistence(client)` each time and is
 *   "up" when every acknowledged message survives a Redis restart (`keepsEveryAck(p)`: AOF with
 *   `appendfsync always`), "off" otherwise. Never "down": a Redis that may lose messages still
 *   serves, so it must not make `/health` 503 or take pods out of a Service.
 *
 * Managed Redis services often refuse `CONFIG` (renamed, disabled, or denied by ACL): the result
 * is then `known: false` with the reason, never an exception.
 * @module
 */
import type { Redis } from "./client.ts";
import { infoField } from "./stream-replies.ts";

export type AppendFsync = "always" | "everysec" | "no";

/** Persistence settings read from Redis. */
export interface KnownPersistence {
  known: true;
  /** `appendonly yes`: every write goes to the append-only file. */
  aof: boolean;
  /** The AOF's `appendfsync` policy; `undefined` when there is no AOF (or an unexpected value). */
  fsync: AppendFsync | undefined;
  /** `save` has snapshot points: RDB snapshots are written from time to time. */
  rdb: boolean;
  /** The `save` setting as read, e.g. `"3600 1 300 100 60 10000"` (`""`: no snapshots). */
  save: string;
  /** One line for logs, e.g. `"AOF, appendfsync always"`. */
  summary: string;
}

/** The settings could not be read (CONFIG refused or unavailable). */
export interface UnknownPersistence {
  known: false;
  aof: undefined;
  fsync: undefined;
  rdb: undefined;
  /** Why: the error Redis answered, e.g. `"ERR unknown command 'CONFIG'"`. */
  reason: string;
  summary: string;
}

export type RedisPersistence = KnownPersistence | UnknownPersistence;

const FSYNC_POLICIES: readonly string[] = ["always", "everysec", "no"] satisfies AppendFsync[];

/** One `CONFIG GET <name>` value, whether node-redis gave an object, a Map or a flat array. */
async function configGet(client: Redis, name: string): Promise<string> {
  const reply = await client.sendCommand<unknown>(["CONFIG", "GET", name]);
  const value = infoField(reply, name);
  if (typeof value !== "string") throw new Error(`CONFIG GET ${name} returned no value`);
  return value;
}

/** Reads Redis's persistence settings; `known: false` (never a rejection) when they cannot be read. */
export async function redisPersistence(client: Redis): Promise<RedisPersistence> {
  let appendonly: string;
  let appendfsync: string;
  let save: string;
  try {
    [appendonly, appendfsync, save] = await Promise.all([configGet(client, "appendonly"), configGet(client, "appendfsync"), configGet(client, "save")]);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { known: false, aof: undefined, fsync: undefined, rdb: undefined, reason, summary: `unknown (CONFIG GET failed: ${reason})` };
  }
  const aof = appendonly.toLowerCase() === "yes";
  const policy = appendfsync.toLowerCase();
  const fsync = aof && FSYNC_POLICIES.includes(policy) ? (policy as AppendFsync) : undefined;
  const rdb = save.trim() !== "";
  const parts = [aof ? `AOF, appendfsync ${fsync ?? appendfsync}` : "no AOF", rdb ? `RDB snapshots (save ${save.trim()})` : "no RDB snapshots"];
  return { known: true, aof, fsync, rdb, save, summary: parts.join("; ") };
}

/** Whether every write Redis acknowledged survives a Redis crash or restart: AOF with `appendfsync always`. */
export function keepsEveryAck(p: RedisPersistence): boolean {
  return p.known && p.aof && p.fsync === "always";
}

/**
 * The one-line warning to log when acknowledged messages can be lost with these settings;
 * `undefined` when every acknowledged message survives a restart.
 */
export function persistenceWarning(p: RedisPersistence): string | undefined {
  if (!p.known) {
    return `Redis persistence is unknown (${p.reason}): unless it runs with appendonly yes and appendfsync always, acknowledged messages can be lost if Redis restarts`;
  }
  if (keepsEveryAck(p)) return undefined;
  if (p.aof && p.fsync === "everysec") {
    return "Redis fsyncs its append-only file every second (appendfsync everysec): up to ~1 s of acknowledged messages are lost if the Redis host crashes";
  }
  if (p.aof && p.fsync === "no") {
    return "Redis leaves fsyncing its append-only file to the OS (appendfsync no): acknowledged messages not flushed yet (typically up to ~30 s) are lost if the Redis host crashes";
  }
  if (p.aof) return "Redis's append-only file has an unrecognised appendfsync policy: acknowledged messages may be lost if the Redis host crashes";
  if (p.rdb) {
    return `Redis keeps only RDB snapshots (save ${p.save.trim()}): acknowledged messages since the last snapshot are lost if Redis crashes or restarts`;
  }
  return 'Redis keeps nothing on disk (appendonly no, save ""): acknowledged messages are lost if Redis restarts';
}
