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
 * topics whose every member was on a dead instance.
 * @module
 */
import type { Redis } from "../../infra/redis/client.ts";
import type { PresenceMember, PresenceSnapshot } from "./members.ts";

/** Removes up to ARGV[2] entries of KEYS[1] scored at or before ARGV[1]; drops the topic ARGV[3] from the index KEYS[2] once empty. */
const SWEEP = `
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #gone > 0 then redis.call('ZREM', KEYS[1], unpack(gone)) end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[3]) end
return gone`;

/** Entries re-added per ZADD (a topic with 100 000 local members is refreshed in 200 commands). */
const CHUNK = 500;
/** Entries removed per sweep of one topic, and topics of dead instances swept per round. */
const SWEEP_BATCH = 1000;

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
    return (await this.#client.sendCommand<number>(["ZREM", this.#key(topic), encode(member)])) === 1;
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
    const orphans = await this.#client.sendCommand<string[]>(["ZRANGEBYSCORE", this.#index, "-inf", String(now), "LIMIT", "0", String(SWEEP_BATCH)]);
    const all = new Set([...topics, ...orphans]);
    const swept = await Promise.all(
      [...all].map(async (topic) => {
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
