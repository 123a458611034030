/**
 * Timer hot state in Redis: hash `<prefix>:hot:timer:<id>` per timer (the {@link TimerState}
 * fields) and set `<prefix>:hot:timers` indexing the ids. In Cluster mode the prefix is a hash
 * tag (`keyspace.ts`), so a script touching a hash and the index stays in one slot.
 *
 * Writes from several instances can arrive out of order, so a save applies only if its
 * `version` is newer than the stored one (a small Lua script, atomic in Redis). A removed timer
 * leaves a tombstone hash (`deleted`, maximal version, one hour TTL) so that a late save from
 * another instance cannot bring it back.
 * @module
 */
import type { Redis } from "../../infra/redis/client.ts";
import type { HotState } from "./hot-state.ts";
import type { TimerState, TimerStatus } from "./timer-state.ts";

const SAVE_IF_NEWER = `
local v = redis.call('HGET', KEYS[1], 'version')
if v and tonumber(v) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SADD', KEYS[2], ARGV[2])
return 1`;

/** Removes a timer: its hash becomes a tombstone and its id leaves the index, atomically. */
const REMOVE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'deleted', '1', 'version', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
return 1`;

const TOMBSTONE_VERSION = "9007199254740991";
const TOMBSTONE_TTL_SECONDS = 3600;

export class RedisHotState implements HotState {
  readonly shared = true;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #index: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = `${prefix}:hot:timer:`;
    this.#index = `${prefix}:hot:timers`;
  }

  async save(t: TimerState): Promise<void> {
    const fields = [
      ["id", t.id],
      ["sessionId", t.sessionId],
      ["accumulatedMs", t.accumulatedMs],
      ["startedAt", t.startedAt ?? ""],
      ["maxTime", t.maxTime],
      ["status", t.status],
      ["version", t.version],
      ["createdAt", t.createdAt],
      ["updatedAt", t.updatedAt],
    ].flatMap(([k, v]) => [String(k), String(v)]);
    await this.#redis.sendCommand(["EVAL", SAVE_IF_NEWER, "2", this.#key(t.id), this.#index, String(t.version), String(t.id), ...fields]);
  }

  async remove(id: number): Promise<void> {
    await this.#redis.sendCommand(["EVAL", REMOVE, "2", this.#key(id), this.#index, TOMBSTONE_VERSION, String(TOMBSTONE_TTL_SECONDS), String(id)]);
  }

  async get(id: number): Promise<TimerState | undefined> {
    return parse(hash(await this.#redis.sendCommand(["HGETALL", this.#key(id)])));
  }

  async loadAll(): Promise<TimerState[] | undefined> {
    const ids = (await this.#redis.sendCommand<string[] | null>(["SMEMBERS", this.#index])) ?? [];
    if (ids.length === 0) return undefined;
    // Pipelined (node-redis writes queued commands together), one slot in Cluster mode.
    const replies = await Promise.all(ids.map((id) => this.#redis.sendCommand(["HGETALL", this.#key(Number(id))])));
    return replies.map((r) => parse(hash(r))).filter((t): t is TimerState => t !== undefined);
  }

  async stop(): Promise<void> {
    await this.#redis.close().catch(() => this.#redis.destroy());
  }

  #key(id: number): string {
    return this.#prefix + id;
  }
}

/** An `HGETALL` reply (a RESP3 map or a flat RESP2 array) as a record. */
function hash(reply: unknown): Record<string, string> | undefined {
  if (reply === null || reply === undefined) return undefined;
  if (reply instanceof Map) return Object.fromEntries([...reply].map(([k, v]) => [String(k), String(v)]));
  if (Array.isArray(reply)) {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
    return out;
  }
  return reply as Record<string, string>;
}

function parse(h: Record<string, string> | undefined): TimerState | undefined {
  if (!h || h.deleted || h.id === undefined) return undefined;
  return {
    id: Number(h.id),
    sessionId: h.sessionId ?? "",
    accumulatedMs: Number(h.accumulatedMs),
    startedAt: h.startedAt ? Number(h.startedAt) : null,
    maxTime: Number(h.maxTime),
    status: h.status as TimerStatus,
    version: Number(h.version),
    createdAt: Number(h.createdAt),
    updatedAt: Number(h.updatedAt),
  };
}
