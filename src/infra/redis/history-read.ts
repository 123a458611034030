/**
 * Reading a stream's history from Redis, for replays outside the in-memory window: bounded
 * (`COUNT`), with the eviction point and the epoch read in the same round trip, and identical
 * reads in flight at once sharing one answer (a burst of clients resuming from the same offset
 * costs one read).
 * @module
 */
import { compareSeq, durablePart } from "../../core/seq.ts";
import { type HistoryRead, type LogEntry, LogUnavailableError } from "../../core/topic-log.ts";
import type { Redis } from "./client.ts";
import { epochKey, isFreshEpoch, parseEpoch } from "./epochs.ts";
import { recoveredSince } from "./gap-check.ts";
import { infoField, isNoSuchKey, type RawEntry, toEntry } from "./stream-replies.ts";

export interface HistorySource {
  client: Redis;
  prefix: string;
  historySize: number;
  /** Every tailed stream's key: a `since` past all their ends was never issued by this history. */
  keys?: readonly string[];
  /** Counts each read that went to Redis. */
  onRead?: () => void;
}

/** Entries `MAXLEN ~` may keep beyond the history size (a radix-tree node, 100 by default). */
const STREAM_NODE_SLACK = 128;

const inFlight = new WeakMap<HistorySource, Map<string, Promise<HistoryRead>>>();

/**
 * Entries of `topic` after `since` (the newest `limit` when absent), at most `limit`: a page is
 * short of it only at the stream's end. Without a limit, what the history size keeps.
 *
 * `delivered` is where this instance's delivery of `topic` stands: a read is shared only by
 * requests made while it stands there. A replay registered after an entry was delivered does not
 * get that entry live, so it must be given a read made after it too; one started before (its reply
 * still on the way) lacks it, and the replay would go live without it, untold.
 */
export function readHistory(src: HistorySource, topic: string, since: string | undefined, limit?: number, delivered = ""): Promise<HistoryRead> {
  let reads = inFlight.get(src);
  if (!reads) inFlight.set(src, (reads = new Map()));
  const id = `${topic}\n${since ?? ""}\n${limit ?? ""}\n${delivered}`;
  const shared = reads.get(id);
  if (shared) return shared;
  const read = readOnce(src, topic, since, limit).finally(() => reads.delete(id));
  reads.set(id, read);
  return read;
}

async function readOnce(src: HistorySource, topic: string, since: string | undefined, limit: number | undefined): Promise<HistoryRead> {
  const key = `${src.prefix}:${topic}`;
  // `MAXLEN ~` keeps up to one stream node (100 entries by default) beyond the history size.
  // A caller's limit is its own bound (a page of `GET /messages`): capping it too would return a
  // short page, read as the end, from a stream that keeps more (HISTORY_SIZE lowered since).
  const paged = limit !== undefined && Number.isFinite(limit);
  const count = String(Math.max(0, Math.floor(paged ? limit : src.historySize + STREAM_NODE_SLACK)));
  // Without `since`, the newest entries: read backwards, then put them in order.
  const range = since === undefined ? ["XREVRANGE", key, "+", "-", "COUNT", count] : ["XRANGE", key, `(${durablePart(since)}`, "+", "COUNT", count];
  src.onRead?.();
  let raw: RawEntry[];
  let info: unknown;
  let epochValue: unknown;
  try {
    [raw, info, epochValue] = await Promise.all([
      src.client.sendCommand<RawEntry[]>(range).then((r) => r ?? []),
      src.client.sendCommand<unknown>(["XINFO", "STREAM", key]).catch((error: unknown) => {
        if (isNoSuchKey(error)) return undefined;
        throw error;
      }),
      src.client.sendCommand<unknown>(["GET", epochKey(src.prefix, topic)]),
    ]);
  } catch (error) {
    throw new LogUnavailableError(`reading redis stream ${key}: ${(error as Error).message}`, "unavailable", { cause: error });
  }
  if (since === undefined) raw.reverse();
  const entries: LogEntry[] = [];
  for (const item of raw) {
    const entry = toEntry(topic, item);
    if (entry) entries.push(entry);
  }
  const epoch = parseEpoch(epochValue);
  // A replay asked for everything after `since` but got the bounded count: more may follow that
  // it will never be sent, so it must not count as recovered.
  const truncated = !paged && since !== undefined && raw.length >= Number(count);
  // No epoch: no history at all in this Redis (new, or it came back empty): a reader with an
  // offset cannot have been recovered.
  const inEpoch = since === undefined || (epoch !== undefined && compareSeq(since, epoch.start) >= 0);
  // No stream: with an epoch it had one, and was deleted (or evicted) with its history, unless
  // that epoch is fresh (no entry appended in it yet, `epochs.ts`): then nothing of it is missing
  // for a `since` at its start (a fresh topic's position) or one another stream issued.
  if (!info) {
    const fresh = since !== undefined && epoch !== undefined && inEpoch && isFreshEpoch(epochValue) && !(await pastEveryEnd(src, since, epoch.start));
    return { entries, recovered: since === undefined || fresh, epoch: epoch?.id };
  }
  const tip = String(infoField(info, "last-generated-id") ?? "0-0");
  const recovered = inEpoch && !truncated && (since === undefined || (recoveredSince(info, since, src.historySize) && !(await pastEveryEnd(src, since, tip))));
  return { entries, recovered, tip, epoch: epoch?.id };
}

/**
 * Whether `since` is past every id the tailed streams have issued (ids increase across them):
 * the client saw a future this Redis does not have, as after a restore from older data.
 */
async function pastEveryEnd(src: HistorySource, since: string, tip: string): Promise<boolean> {
  const seen = durablePart(since);
  if (compareSeq(seen, tip) <= 0) return false;
  try {
    const ends = await Promise.all((src.keys ?? []).map((key) => streamEnd(src.client, key)));
    return ends.every((end) => compareSeq(seen, end) > 0);
  } catch (error) {
    throw new LogUnavailableError(`reading the ends of the redis streams: ${(error as Error).message}`, "unavailable", { cause: error });
  }
}

/** The stream's last generated id, `0-0` when it does not exist. */
export async function streamEnd(client: Redis, key: string): Promise<string> {
  try {
    const info = await client.sendCommand<unknown>(["XINFO", "STREAM", key]);
    return String(infoField(info, "last-generated-id") ?? "0-0");
  } catch (error) {
    if (isNoSuchKey(error)) return "0-0";
    throw error;
  }
}

/**
 * Where a tailer starts on `topic`: the stream's end (`$` resolved, `0-0` when there is none),
 * whether it never lost an entry to trimming, and its newest entries (oldest first).
 */
export async function streamStart(src: HistorySource, topic: string): Promise<{ end: string; untrimmed: boolean; newest: LogEntry[] }> {
  let end = "0-0";
  let untrimmed = true;
  try {
    const info = await src.client.sendCommand<unknown>(["XINFO", "STREAM", `${src.prefix}:${topic}`]);
    end = String(infoField(info, "last-generated-id") ?? "0-0");
    untrimmed = Number(infoField(info, "entries-added") ?? Number.POSITIVE_INFINITY) <= Number(infoField(info, "length") ?? 0);
  } catch (error) {
    if (!isNoSuchKey(error)) throw error;
  }
  const { entries } = await readHistory(src, topic, undefined);
  return { end, untrimmed, newest: entries };
}
