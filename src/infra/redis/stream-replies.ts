/**
 * Reading node-redis 6 replies of raw stream commands (`XREAD`, `XRANGE`, `XINFO STREAM`), whose
 * shape depends on the RESP version and the command.
 * @module
 */
import { compareSeq } from "../../core/seq.ts";
import { type LogEntry, StoredEntry } from "../../core/topic-log.ts";

export type RawEntry = [id: string, fields: string[]];

/** Turns one raw stream entry into a log entry; `undefined` if it is not one of ours. */
export function toEntry(topic: string, [seq, fields]: RawEntry): LogEntry | undefined {
  let d: string | undefined;
  let ts = 0;
  let epoch: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "d") d = fields[i + 1];
    else if (fields[i] === "ts") ts = Number(fields[i + 1]);
    else if (fields[i] === "e") epoch = fields[i + 1];
  }
  if (d === undefined) return undefined;
  // The body stays JSON text: it is spliced into frames as is, and parsed only if read.
  return new StoredEntry(topic, seq, ts || Number(seq.split("-")[0]), d, undefined, epoch);
}

/**
 * Reads one field of an `XINFO STREAM` reply. node-redis 6 turns map-like replies of raw
 * `sendCommand` into plain objects; a flat RESP2 array is accepted too.
 */
export function infoField(reply: unknown, name: string): unknown {
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === name) return reply[i + 1];
    return undefined;
  }
  if (reply instanceof Map) return reply.get(name);
  return reply && typeof reply === "object" ? (reply as Record<string, unknown>)[name] : undefined;
}

/** `XREAD`'s reply as `[key, entries]` pairs, whether node-redis gave an object, Map or array. */
export function streamsOf(reply: unknown): [string, RawEntry[]][] {
  if (!reply) return [];
  if (Array.isArray(reply)) return reply as [string, RawEntry[]][];
  if (reply instanceof Map) return [...reply.entries()] as [string, RawEntry[]][];
  return Object.entries(reply as Record<string, RawEntry[]>);
}

/** Whether `error` is Redis saying the stream does not exist. */
export const isNoSuchKey = (error: unknown) => error instanceof Error && /no such key/i.test(error.message);

/**
 * One `XREAD`'s entries as `[topic, entry]` in id order across streams (it answers stream by
 * stream), so that a client following several topics with one resume offset (SSE
 * `Last-Event-ID`) sees ids only increase. A stream that returned `count` entries (the read's
 * `COUNT`) may have older entries than another stream's left unread: the batch then stops at
 * the oldest such stream's last entry, and the entries after it are read again next time.
 */
export function inIdOrder(reply: [string, RawEntry[]][], keys: readonly string[], topics: readonly string[], count = Infinity): [string, RawEntry][] {
  const batch: [string, RawEntry][] = [];
  let cutoff: string | undefined;
  for (const [key, items] of reply) {
    const topic = topics[keys.indexOf(key)];
    if (topic === undefined) continue;
    for (const item of items) batch.push([topic, item]);
    const last = items.at(-1)?.[0];
    if (items.length >= count && last !== undefined && (cutoff === undefined || compareSeq(last, cutoff) < 0)) cutoff = last;
  }
  if (reply.length > 1) batch.sort((a, b) => compareSeq(a[1][0], b[1][0]));
  if (cutoff === undefined || reply.length < 2) return batch;
  let end = batch.length;
  while (end > 0 && compareSeq(batch[end - 1]![1][0], cutoff) > 0) end--;
  return batch.slice(0, end);
}

/** The tailer's read: up to `count` entries per stream after each id, blocking up to `blockMs`. */
export function xreadCommand(count: number, blockMs: number, keys: readonly string[], ids: readonly string[]): string[] {
  return ["XREAD", "COUNT", String(count), "BLOCK", String(blockMs), "STREAMS", ...keys, ...ids];
}
