/**
 * Timer hot state in Redis: hash `<prefix>:hot:timer:<id>` per timer (the {@link TimerState}
 * fields) and set `<prefix>:hot:timers` indexing the ids.
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
    await this.#redis.eval(SAVE_IF_NEWER, { keys: [this.#key(t.id), this.#index], arguments: [String(t.version), String(t.id), ...fields] });
  }

  async remove(id: number): Promise<void> {
    await this.#redis
      .multi()
      .del(this.#key(id))
      .hSet(this.#key(id), { deleted: "1", version: TOMBSTONE_VERSION })
      .expire(this.#key(id), TOMBSTONE_TTL_SECONDS)
      .sRem(this.#index, String(id))
      .exec();
  }

  async get(id: number): Promise<TimerState | undefined> {
    return parse(await this.#redis.hGetAll(this.#key(id)));
  }

  async loadAll(): Promise<TimerState[] | undefined> {
    const ids = await this.#redis.sMembers(this.#index);
    if (ids.length === 0) return undefined;
    const multi = this.#redis.multi();
    for (const id of ids) multi.hGetAll(this.#key(Number(id)));
    const replies = (await multi.exec()) as unknown as Record<string, string>[];
    return replies.map(parse).filter((t): t is TimerState => t !== undefined);
  }

  async stop(): Promise<void> {
    await this.#redis.close().catch(() => this.#redis.destroy());
  }

  #key(id: number): string {
    return this.#prefix + id;
  }
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
