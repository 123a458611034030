/**
 * Starting a new epoch on a stream that lost acknowledged entries (`failover-check.ts`): a
 * compare-and-set on its epoch key, so that of several instances noticing the loss one renews
 * it, and the others read the epoch it set. The new epoch starts now (Redis `TIME`), so every
 * `since` from the old history is answered `recovered:false`.
 * @module
 */
import { randomEpochId } from "../../core/memory-topic-log.ts";
import type { Redis } from "./client.ts";
import { epochKey } from "./epochs.ts";

/**
 * Sets a new epoch `ARGV[2] <now>-0` unless the key already names another one than `ARGV[1]`,
 * marked ` fresh` (no entry yet) so that the append script does not take a stream that has no
 * entry in it for a deleted one (see append-script.ts).
 */
const RENEW_EPOCH = `
local ep = redis.call('GET', KEYS[1])
if ep and string.match(ep, '^(%S+)') ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
redis.call('SET', KEYS[1], ARGV[2] .. ' ' .. t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)) .. '-0 fresh')
return 1`;

/** Renews `topic`'s epoch unless it is no longer `known` (another instance renewed it). */
export async function renewEpoch(client: Redis, prefix: string, topic: string, known: string | undefined): Promise<void> {
  await client.sendCommand(["EVAL", RENEW_EPOCH, "1", epochKey(prefix, topic), known ?? "", randomEpochId()]);
}
