/**
 * The append script and the append limits of the Redis topic log.
 * @module
 */

/**
 * `XADD` with an id whose counter is never 0 (see SeqGenerator: `<ms>-0` is the seq of a tick's
 * ephemeral event, and a durable entry must sort after it, not share it). Tries `<now ms>-1`;
 * if the stream already has an id at or past it (same millisecond, or another instance's clock
 * ahead), takes the last generated id's counter + 1. The millisecond is built as a string
 * because Lua 5.1 prints large numbers in exponent form. One round trip, atomic.
 *
 * KEYS[2] is the stream's epoch key (see `epochs.ts`): created here, with the new id ARGV[5],
 * when missing (a new stream, or a Redis that came back empty), and written into the entry as
 * field `e`. With a third key (an event id's dedupe key, `<prefix>:eid:<eventId>`), an event
 * appended before is not appended again: the script answers the seq it got then. That key lives
 * `ARGV[4]` seconds, longer than any outbox row waits to be published again. Answers
 * `{seq, epoch id}`.
 */
export const APPEND_SCRIPT = `
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local ep = redis.call('GET', KEYS[2])
if not ep then
  ep = ARGV[5] .. ' ' .. ms .. '-0'
  redis.call('SET', KEYS[2], ep)
end
local epid = string.match(ep, '^(%S+)')
if KEYS[3] then
  local seen = redis.call('GET', KEYS[3])
  if seen then return {seen, epid} end
end
local id = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], ms .. '-1', 'd', ARGV[2], 'ts', ARGV[3], 'e', epid)
if type(id) ~= 'string' then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  local last
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last = info[i + 1] end
  end
  local lms, ln = string.match(last, '^(%d+)-(%d+)$')
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], lms .. '-' .. tostring(tonumber(ln) + 1), 'd', ARGV[2], 'ts', ARGV[3], 'e', epid)
end
if KEYS[3] then redis.call('SET', KEYS[3], id, 'EX', ARGV[4]) end
return {id, epid}
`;

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
