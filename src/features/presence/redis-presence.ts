/**
 * Presence shared by every instance through Redis: one sorted set per topic,
 * `<prefix>:presence:<topic>`, whose members are `[client, user]` (JSON) and whose scores are
 * the instant each entry expires. Each instance re-adds its own entries every third of the TTL,
 * so live entries are always in the future; a killed instance's entries fall behind `now`
 * within the TTL and every read ignores them. Reads are bounded: `ZCOUNT` for the exact count,
 * `ZRANGEBYSCORE … LIMIT` for at most the list limit of members.
 *
 * Expired entries are removed by a sweep (a script, so that two instances sweeping at once
 * remove each entry once, and the instance that removed it announces its `leave`). The set of
 * topics with entries, `<prefix>:presence-topics` (scored the same way), lets an instance sweep
 * topics whose every member was on a dead instance. A leave that empties a topic drops it from
 * the index in the same script, so churning topics does not grow the index until a sweep.
 * @module
 */
import type { Redis } from "../../infra/redis/client.ts";
import type { PresenceMember, PresenceSnapshot } from "./members.ts";

/**
 * Removes up to ARGV[2] entries of KEYS[1] scored at or before ARGV[1]; drops the topic ARGV[3]
 * from the index KEYS[2] once empty, else raises its index score to its newest entry's (an
 * orphan whose entries were refreshed by a clock ahead of ours is not picked again every round).
 */
const SWEEP = `
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #gone > 0 then redis.call('ZREM', KEYS[1], unpack(gone)) end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[3])
else redis.call('ZADD', KEYS[2], 'GT', redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2], ARGV[3]) end
return gone`;

/** Removes the entries ARGV[2..] of KEYS[1], answering those it removed; drops the topic ARGV[1] from the index KEYS[2] once empty. */
const LEAVE = `
local removed = {}
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then removed[#removed + 1] = ARGV[i] end
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return removed`;

/** Entries re-added per ZADD (a topic with 100 000 local members is refreshed in 200 commands). */
const CHUNK = 500;
/** Entries removed per sweep of one topic, and topics of dead instances swept per batch. */
const SWEEP_BATCH = 1000;
/** Batches of dead instances' topics one sweep takes at most (while the last one was full). */
const ORPHAN_BATCHES = 20;

const encode = (m: PresenceMember) => JSON.stringify([m.client, m.user ?? null]);

function decode(raw: string): PresenceMember | undefined {
  try {
    const [client, user] = JSON.parse(raw) as [unknown, unknown];
    if (typeof client !== "string") return undefined;
    return typeof user === "string" ? { client, user } : { client };
  } catch {
    return undefined;
  }
}

export class RedisPresence {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(client: Redis, prefix: string, ttlMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#ttlMs = ttlMs;
  }

  #key(topic: string): string {
    return `${this.#prefix}:presence:${topic}`;
  }

  get #index(): string {
    return `${this.#prefix}:presence-topics`;
  }

  async join(topic: string, member: PresenceMember, now: number): Promise<void> {
    await this.#add(topic, [member], now);
  }

  /** Removes `member`; whether it was still there (not swept as expired by some instance). */
  async leave(topic: string, member: PresenceMember): Promise<boolean> {
    return (await this.leaveAll(topic, [member])).length === 1;
  }

  /** Removes `members` of `topic` (`CHUNK` a script); resolves with those still there, whose `leave` the caller announces. */
  async leaveAll(topic: string, members: readonly PresenceMember[]): Promise<PresenceMember[]> {
    const chunks: Promise<string[]>[] = [];
    for (let i = 0; i < members.length; i += CHUNK) {
      const args = ["EVAL", LEAVE, "2", this.#key(topic), this.#index, topic, ...members.slice(i, i + CHUNK).map(encode)];
      chunks.push(this.#client.sendCommand<string[]>(args));
    }
    return (await Promise.all(chunks)).flat().flatMap((raw) => decode(raw) ?? []);
  }

  /** Re-adds every entry of this instance with a new expiry. */
  async refresh(local: Iterable<[string, ReadonlyMap<string, PresenceMember>]>, now: number): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [topic, members] of local) writes.push(this.#add(topic, [...members.values()], now));
    await Promise.all(writes);
  }

  /**
   * Removes expired entries of `topics` and of topics nobody refreshes any more; resolves with
   * the members this call removed, by topic (the caller announces their `leave`).
   */
  async sweep(topics: Iterable<string>, now: number): Promise<[string, PresenceMember][]> {
    const done = new Set<string>();
    const swept = await this.#sweepTopics([...topics], now, done);
    // Each swept orphan leaves the index (or moves past `now`), so the next batch holds new ones:
    // churn of many topics on dead instances is not left to one batch a round.
    for (let batch = 0; batch < ORPHAN_BATCHES; batch++) {
      const orphans = await this.#client.sendCommand<string[]>(["ZRANGEBYSCORE", this.#index, "-inf", String(now), "LIMIT", "0", String(SWEEP_BATCH)]);
      const fresh = orphans.filter((topic) => !done.has(topic));
      swept.push(...(await this.#sweepTopics(fresh, now, done)));
      if (orphans.length < SWEEP_BATCH || fresh.length === 0) break;
    }
    return swept;
  }

  /** One SWEEP per topic of `topics`, at once; adds them to `done`. */
  async #sweepTopics(topics: string[], now: number, done: Set<string>): Promise<[string, PresenceMember][]> {
    for (const topic of topics) done.add(topic);
    const swept = await Promise.all(
      topics.map(async (topic) => {
        const gone = await this.#client.sendCommand<string[]>(["EVAL", SWEEP, "2", this.#key(topic), this.#index, String(now), String(SWEEP_BATCH), topic]);
        return gone.flatMap((raw) => {
          const m = decode(raw);
          return m ? [[topic, m] as [string, PresenceMember]] : [];
        });
      }),
    );
    return swept.flat();
  }

  async snapshot(topic: string, limit: number, now: number): Promise<PresenceSnapshot> {
    const key = this.#key(topic);
    const [count, raw] = await Promise.all([
      this.#client.sendCommand<number>(["ZCOUNT", key, `(${now}`, "+inf"]),
      this.#client.sendCommand<string[]>(["ZRANGEBYSCORE", key, `(${now}`, "+inf", "LIMIT", "0", String(limit)]),
    ]);
    const members = raw.flatMap((r) => decode(r) ?? []);
    return { topic, count: Number(count), members, truncated: Number(count) > members.length };
  }

  async #add(topic: string, members: PresenceMember[], now: number): Promise<void> {
    if (members.length === 0) return;
    const expiry = String(now + this.#ttlMs);
    const key = this.#key(topic);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < members.length; i += CHUNK) {
      writes.push(this.#client.sendCommand(["ZADD", key, ...members.slice(i, i + CHUNK).flatMap((m) => [expiry, encode(m)])]));
    }
    // The index keeps the latest expiry of the topic (GT): a topic lives while anyone refreshes it.
    writes.push(this.#client.sendCommand(["ZADD", this.#index, "GT", expiry, topic]));
    // Everything of a cluster that is gone for good (every instance stopped) goes in the end.
    writes.push(this.#client.sendCommand(["PEXPIRE", key, String(this.#ttlMs * 20)]));
    await Promise.all(writes);
  }
}
