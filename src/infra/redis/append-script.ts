/**
 * The append script of the Redis topic log, its command, and the append limits.
 * @module
 */
import { createHash } from "node:crypto";
import { randomEpochId } from "../../core/memory-topic-log.ts";
import { type AppendOptions, LogUnavailableError } from "../../core/topic-log.ts";
import type { Redis } from "./client.ts";
import { epochKey } from "./epochs.ts";

/**
 * `XADD` with an id whose counter is never 0 (see SeqGenerator: `<ms>-0` is the seq of a tick's
 * ephemeral event, and a durable entry must sort after it, not share it), and after the newest
 * entry of every tailed stream: ids increase across the streams in append order, as the embedded
 * logs' one generator does, so that a client following several topics with one offset never
 * sees an older id after a newer one (two streams' appends in one millisecond both took
 * `<ms>-1`). Tries `<now ms>-1`, or the newest tip's counter + 1 when a tip is at or past it;
 * if the stream's last generated id is past that too (entries deleted), its counter + 1. The
 * millisecond is built as a string because Lua 5.1 prints large numbers in exponent form, and
 * ids are compared as (digits, counter). One round trip, atomic.
 *
 * KEYS: [1] the stream, [2] its epoch key (see `epochs.ts`), [3 .. 2 + ARGV[6]] every stream the
 * appending instance tails, then, optionally, an event id's dedupe key (`<prefix>:eid:<eventId>`,
 * when ARGV[7] is `1`), then, optionally, a claim's counter (`<prefix>:<name>`, when ARGV[8] is a
 * value): the entry is added only if ARGV[8] is above the counter, which becomes it; otherwise
 * the answer is `{'', epoch id, counter}` and nothing is written (see `AppendOptions.claim`).
 * The epoch key is created here, with the new id ARGV[5], when missing (a new stream, or a Redis
 * that came back empty) or when the stream is (a `DEL`, an eviction: its history is gone) unless
 * the epoch is marked ` fresh` (renewed, `epoch-renew.ts`, or created, `epochs.ts`, with no entry
 * yet: the mark goes with its first entry), and written into the entry as field `e`. The entry's
 * id is after the epoch's start (a fresh epoch's start is the topic's position before its first
 * entry: a master whose clock is behind the one that set it must not number an entry before it).
 * An event id appended before is not appended again: the script answers `{seq it got then,
 * epoch id}`. That key lives `ARGV[4]` seconds, longer than any outbox row waits to be published
 * again.
 *
 * Otherwise it answers `{seq, epoch id, tip_1, …, tip_n}`: the newest entry id of each tailed
 * stream just before this XADD (`0-0` for none), read atomically with it. Those tell the
 * instance whether this entry is the very next one after everything it has delivered, in which
 * case it may deliver it at once instead of waiting for its tailer to read it back (see
 * `RedisTopicLog`'s local delivery). `XREVRANGE … COUNT 1` is O(log n) and needs no `XINFO`
 * reply; it gives the newest retained entry, which is the last generated one unless entries were
 * deleted (`XDEL`, `XTRIM MAXLEN 0`): then the tip differs from the instance's position and it
 * simply waits for its tailer, as before.
 *
 * Each entry carries field `p`, the id its stream had generated before it (the newest retained
 * entry's, or when that is none, or the XADD found entries deleted past it, the stream's last
 * generated id): a tailer whose position is older than an entry's `p` missed entries, and says
 * so (`gap-check.ts`). Only when the newest entries were deleted (`XDEL`) and others remain is
 * `p` older than the true predecessor, and a gap behind it goes unseen by that check.
 */
export const APPEND_SCRIPT = `
local n = tonumber(ARGV[6])
local eid = ARGV[7] == '1' and KEYS[3 + n] or nil
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local ep = redis.call('GET', KEYS[2])
local fresh = ep and string.find(ep, ' fresh$')
if not ep or (not fresh and redis.call('EXISTS', KEYS[1]) == 0) then
  ep = ARGV[5] .. ' ' .. ms .. '-0'
  redis.call('SET', KEYS[2], ep)
elseif fresh then
  ep = string.sub(ep, 1, fresh - 1)
  redis.call('SET', KEYS[2], ep)
end
local epid = string.match(ep, '^(%S+)')
if eid then
  local seen = redis.call('GET', eid)
  if seen then return {seen, epid} end
end
if ARGV[8] ~= '' then
  local counter = KEYS[#KEYS]
  local last = tonumber(redis.call('GET', counter) or '0') or 0
  if tonumber(ARGV[8]) <= last then return {'', epid, string.format('%.0f', last)} end
  redis.call('SET', counter, ARGV[8])
end
local cms, cn = ms, 1
local function past(id)
  local ims, inn = string.match(id, '^(%d+)-(%d+)$')
  if not ims then return end
  inn = tonumber(inn)
  if #ims > #cms or (#ims == #cms and (ims > cms or (ims == cms and inn >= cn))) then cms, cn = ims, inn + 1 end
end
past(string.match(ep, '^%S+ (%S+)') or '')
local reply = {'', epid}
local prev
for i = 1, n do
  local last = redis.call('XREVRANGE', KEYS[2 + i], '+', '-', 'COUNT', 1)
  reply[2 + i] = last[1] and last[1][1] or '0-0'
  if KEYS[2 + i] == KEYS[1] and last[1] then prev = last[1][1] end
  past(reply[2 + i])
end
local function generated()
  if redis.call('EXISTS', KEYS[1]) == 0 then return '0-0' end
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return '0-0'
end
prev = prev or generated()
local id = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], cms .. '-' .. string.format('%.0f', cn), 'd', ARGV[2], 'ts', ARGV[3], 'e', epid, 'p', prev)
if type(id) ~= 'string' then
  prev = generated()
  past(prev)
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], cms .. '-' .. string.format('%.0f', cn), 'd', ARGV[2], 'ts', ARGV[3], 'e', epid, 'p', prev)
end
if eid then redis.call('SET', eid, id, 'EX', ARGV[4]) end
reply[1] = id
return reply
`;

/** One append's stream and keys, for {@link appendCommand}. */
export interface AppendTarget {
  /** The key prefix (`STREAM_PREFIX`, hash-tagged in Cluster mode). */
  prefix: string;
  topic: string;
  /** Every stream the appending instance tails, in the order of its topics. */
  tailed: readonly string[];
  opts: AppendOptions | undefined;
  historySize: number;
  json: string;
  ts: number;
}

const APPEND_SHA = createHash("sha1").update(APPEND_SCRIPT).digest("hex");

/**
 * Connections, by `Redis.writeMark` (it changes when a connection drops, and in Cluster mode
 * when the slot moves), on which an append ran: that Redis has the script.
 */
const scriptOn = new WeakMap<Redis, Set<string>>();

/**
 * Runs an {@link appendCommand}: by its hash (`EVALSHA`), so that an append does not carry the
 * 1.7 KB script nor make Redis hash it (measured: about half the client's CPU per append and a
 * quarter of Redis's), once an append ran on that connection; with the script itself (`EVAL`)
 * until then (a new or restarted server, a promoted replica, another Cluster node).
 *
 * Not `EVALSHA` first and `EVAL` on `NOSCRIPT`: with appends pipelined, the first one's `EVAL`
 * loads the script between the second's `NOSCRIPT` and its `EVAL`, and a third `EVALSHA` sent
 * meanwhile is stored before the second (seen with a manager pipelining after a start). So a
 * `NOSCRIPT` (an `EVALSHA` that reached a Redis without the script all the same: one held by the
 * client across a Sentinel failover, a Cluster redirect, a `SCRIPT FLUSH`) is not sent again:
 * nothing ran, so it is refused `unavailable` (503, retry), and the next appends go as `EVAL`.
 */
export async function sendAppend(client: Redis, command: string[]): Promise<string[]> {
  const route = command[3];
  const mark = client.writeMark(route);
  let known = scriptOn.get(client);
  if (!known) scriptOn.set(client, (known = new Set()));
  let reply: string[];
  if (!known.has(mark)) {
    reply = await client.sendCommand<string[]>(["EVAL", APPEND_SCRIPT, ...command.slice(2)]);
    if (known.size >= 64) known.clear(); // marks of connections long gone
    known.add(mark);
  } else {
    try {
      reply = await client.sendCommand<string[]>(command);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      known.delete(mark);
      known.delete(client.writeMark(route));
      throw new LogUnavailableError("redis did not have the append script (a failover, or SCRIPT FLUSH): not stored; retry shortly", "unavailable", {
        cause: error,
      });
    }
  }
  return heldAcross(client, route, mark, reply);
}

/**
 * Sentinel and Cluster: node-redis holds a command issued before a master change (or resends one
 * redirected by `MOVED` after a slot moved) and sends it to the new master after commands issued
 * since (seen: an append stored after 680 later ones). Its entry is stored, but out of its
 * publisher's order: it is answered `unavailable` (it may be stored, a retry can duplicate it),
 * so that acknowledged appends stay in the order they were sent. (`REDIS_MIN_REPLICAS` answers
 * so in every mode: `replica-wait.ts`.)
 */
function heldAcross(client: Redis, route: string | undefined, mark: string, reply: string[]): string[] {
  if (client.mode === "single" || client.writeMark(route) === mark) return reply;
  throw new LogUnavailableError("the redis master changed while the append was out: it may be stored, after later appends; retry shortly", "unavailable");
}

/** The `EVALSHA` of {@link APPEND_SCRIPT} for one entry, for {@link sendAppend}. */
export function appendCommand({ prefix, topic, tailed, opts, historySize, json, ts }: AppendTarget): string[] {
  const keys = [`${prefix}:${topic}`, epochKey(prefix, topic), ...tailed];
  if (opts?.eventId !== undefined) keys.push(`${prefix}:eid:${opts.eventId}`);
  if (opts?.claim) keys.push(`${prefix}:${opts.claim.name}`);
  const flags = [opts?.eventId === undefined ? "0" : "1", opts?.claim ? String(opts.claim.value) : ""];
  const argv = [String(historySize), json, String(ts), String(EVENT_ID_TTL_SECONDS), randomEpochId(), String(tailed.length), ...flags];
  return ["EVALSHA", APPEND_SHA, String(keys.length), ...keys, ...argv];
}

/** How long an event id is remembered for idempotent appends: a day. */
export const EVENT_ID_TTL_SECONDS = 86_400;

/**
 * Half the retained history, within 64..1024: see {@link RedisTopicLogOptions.maxInFlight}.
 * (`MAXLEN ~` keeps up to a stream node more than asked, which covers the floor for tiny
 * histories.)
 */
export function defaultMaxInFlight(historySize: number): number {
  return Math.max(64, Math.min(1024, Math.floor(historySize / 2)));
}
