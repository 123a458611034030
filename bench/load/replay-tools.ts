/**
 * What the two replay benchmarks share (replay-cost.ts, replay-amplification.ts): Redis's own
 * counters (`INFO stats`) net of what the measuring costs, tickwire's replay counters from
 * `/metrics`, a WebSocket opened and waited for, and the clean-up of a run's keys.
 * @module
 */
import { connectRedis, type Redis } from "../../src/infra/redis/client.ts";
import { infoField } from "../../src/infra/redis/stream-replies.ts";
import { silentLogger } from "../../src/log.ts";

export async function redisClient(url: string, name: string): Promise<Redis> {
  return connectRedis({ url, log: silentLogger, name });
}

export interface RedisStats {
  /** `total_net_output_bytes`: everything Redis has sent to every client. */
  bytes: number;
  /** `total_commands_processed`. */
  commands: number;
  at: number;
}

export async function redisStats(client: Redis): Promise<RedisStats> {
  const text = await client.sendCommand<string>(["INFO", "stats"]);
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return { bytes: field("total_net_output_bytes"), commands: field("total_commands_processed"), at: performance.now() };
}

/**
 * Redis's counters are server-wide: they include the `INFO` that reads them, tickwire's idle
 * traffic (the tailer's `XREAD BLOCK`, the trim watch's `XINFO STREAM` every 500 ms, the
 * outbox) and any other client of the same Redis. `calibrate` measures both with nothing else
 * going on from this run: one `INFO` pair back to back (its own cost), then an idle interval
 * (the background rate). `net` subtracts them from a measured interval.
 */
export class RedisMeter {
  #client: Redis;
  infoBytes = 0;
  infoCommands = 0;
  /** Background per millisecond. */
  idleBytesPerMs = 0;
  idleCommandsPerMs = 0;

  constructor(client: Redis) {
    this.#client = client;
  }

  async calibrate(idleMs: number): Promise<void> {
    const pairs = 5;
    let bytes = 0;
    let commands = 0;
    for (let i = 0; i < pairs; i++) {
      const a = await redisStats(this.#client);
      const b = await redisStats(this.#client);
      bytes += b.bytes - a.bytes;
      commands += b.commands - a.commands;
    }
    this.infoBytes = bytes / pairs;
    this.infoCommands = commands / pairs;
    const a = await redisStats(this.#client);
    await Bun.sleep(idleMs); // an idle interval is the measurement: nothing to wait for
    const b = await redisStats(this.#client);
    const ms = b.at - a.at;
    this.idleBytesPerMs = Math.max(0, (b.bytes - a.bytes - this.infoBytes) / ms);
    this.idleCommandsPerMs = Math.max(0, (b.commands - a.commands - this.infoCommands) / ms);
  }

  read(): Promise<RedisStats> {
    return redisStats(this.#client);
  }

  /** What Redis sent and processed between `a` and `b`, less the `INFO` and the background. */
  net(a: RedisStats, b: RedisStats): { bytes: number; commands: number; ms: number } {
    const ms = b.at - a.at;
    return {
      bytes: b.bytes - a.bytes - this.infoBytes - this.idleBytesPerMs * ms,
      commands: b.commands - a.commands - this.infoCommands - this.idleCommandsPerMs * ms,
      ms,
    };
  }
}

export interface ReplayCounters {
  memory: number;
  redis: number;
  rateLimited: number;
  busy: number;
}

/** tickwire's replay counters (`tickwire_replay_reads_total`, `tickwire_replays_refused_total`). */
export async function replayCounters(url: string): Promise<ReplayCounters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string, label: string) => Number(new RegExp(`^${name}\\{${label}\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return {
    memory: value("tickwire_replay_reads_total", 'source="memory"'),
    redis: value("tickwire_replay_reads_total", 'source="redis"'),
    rateLimited: value("tickwire_replays_refused_total", 'reason="rate_limited"'),
    busy: value("tickwire_replays_refused_total", 'reason="replay_busy"'),
  };
}

export function counterDelta(a: ReplayCounters, b: ReplayCounters): ReplayCounters {
  return { memory: b.memory - a.memory, redis: b.redis - a.redis, rateLimited: b.rateLimited - a.rateLimited, busy: b.busy - a.busy };
}

/** A WebSocket to `url`, resolved once open (rejected on error or after `timeoutMs`). */
export function openWebSocket(url: string, timeoutMs = 5000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => (ws.close(), reject(new Error(`${url}: not open in ${timeoutMs} ms`))), timeoutMs);
    ws.onopen = () => (clearTimeout(timer), resolve(ws));
    ws.onerror = () => (clearTimeout(timer), reject(new Error(`${url}: connection failed`)));
  });
}

/** Deletes every key under `prefix` (SCAN, then DEL in batches); returns how many. */
export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  for (let i = 0; i < 10_000; i++) {
    const [next, keys] = await client.sendCommand<[string, string[]]>(["SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"]);
    if (keys.length > 0) deleted += await client.sendCommand<number>(["DEL", ...keys]);
    cursor = next;
    if (cursor === "0") break;
  }
  return deleted;
}

/** Stream ids of `key`, oldest first (the whole stream: the benchmarks keep it ~1000 entries). */
export async function streamIds(client: Redis, key: string): Promise<string[]> {
  const raw = await client.sendCommand<[string, unknown][]>(["XRANGE", key, "-", "+"]);
  return raw.map((e) => e[0]);
}

/** `XINFO STREAM` fields a benchmark reads: length, entries added, last id. */
export async function streamInfo(client: Redis, key: string): Promise<{ length: number; added: number; last: string }> {
  const info = await client.sendCommand<unknown>(["XINFO", "STREAM", key]);
  const at = (name: string) => infoField(info, name);
  return { length: Number(at("length")), added: Number(at("entries-added")), last: String(at("last-generated-id")) };
}

/** Runs `jobs` with at most `concurrency` at once. */
export async function inParallel(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

export const fmt = {
  int: (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US").replaceAll(",", " ") : "–"),
  num: (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "–"),
  /** Bytes as B under 1 KB (a net figure may be slightly negative: the background subtracted), KB above. */
  bytes: (v: number) => (!Number.isFinite(v) ? "–" : Math.abs(v) < 1024 ? `${Math.round(v)} B` : `${(v / 1024).toFixed(1)} KB`),
  ratio: (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : "–"),
};
