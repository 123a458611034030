/**
 * Epochs of the Redis topic log: one key per stream, `<prefix>:epoch:<topic>`, holding
 * `"<id> <start>"`. The append script creates it with the stream (and after a Redis that came
 * back empty, whose streams and keys are gone alike), so a new history always has a new epoch,
 * and every entry records the epoch it was appended in (field `e`). An instance starting (or
 * reconnected) on a stream that has neither creates it beforehand, marked ` fresh` (no entry
 * yet, see append-script.ts), so that a topic never written has a position to resume from: its
 * epoch's start, before every entry of it (a client acked `0-0` was told to reload on resume).
 * @module
 */

import { randomEpochId } from "../../core/memory-topic-log.ts";
import { compareSeq } from "../../core/seq.ts";
import type { Epoch } from "../../core/topic-log.ts";
import type { Redis } from "./client.ts";

export const epochKey = (prefix: string, topic: string) => `${prefix}:epoch:${topic}`;

/** Whether an epoch key's value says no entry was appended in it yet (` fresh`). */
export const isFreshEpoch = (value: unknown): boolean => typeof value === "string" && value.endsWith(" fresh");

/** `"<id> <start>"` → an epoch; `undefined` for anything else (no key). */
export function parseEpoch(value: unknown): Epoch | undefined {
  if (typeof value !== "string") return undefined;
  const [id, start] = value.split(" ");
  return id && start ? { id, start } : undefined;
}

export async function readEpoch(client: Redis, prefix: string, topic: string): Promise<Epoch | undefined> {
  return parseEpoch(await client.sendCommand<string | null>(["GET", epochKey(prefix, topic)]));
}

/**
 * The epochs of the streams one instance follows, as it last saw them. A different epoch on a
 * tailed entry, or on the key after the tailer's connection came back, means the history this
 * instance delivered from was replaced: its live subscribers must resume (and be told they were
 * not recovered), and its in-memory window is stale.
 */
export class EpochWatch {
  #known = new Map<string, Epoch | undefined>();
  /** Bumped by every {@link seen} that set an epoch: a read begun before it is stale. */
  #seenCount = new Map<string, number>();
  #client: Redis;
  #prefix: string;

  constructor(client: Redis, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  get(topic: string): Epoch | undefined {
    return this.#known.get(topic);
  }

  /**
   * Reads the current epochs of `topics`; returns those that changed since last read. `create`:
   * first gives a fresh epoch to each stream that has neither entries nor an epoch.
   */
  async refresh(topics: readonly string[], create = false): Promise<string[]> {
    const counts = topics.map((topic) => this.#seenCount.get(topic) ?? 0);
    if (create) await Promise.all(topics.map((topic) => this.#create(topic)));
    const read = await Promise.all(topics.map((topic) => readEpoch(this.#client, this.#prefix, topic)));
    const changed: string[] = [];
    topics.forEach((topic, i) => {
      // The tailer saw an entry's epoch while this read was out: it is newer than the answer.
      if ((this.#seenCount.get(topic) ?? 0) !== counts[i]) return;
      const before = this.#known.get(topic);
      const now = read[i];
      // A first epoch (the topic's first entry) replaces nothing; a gone or different one does.
      if (before !== undefined && before.id !== now?.id) changed.push(topic);
      this.#known.set(topic, now);
    });
    return changed;
  }

  /**
   * Gives `topic` a fresh epoch starting now (by the clock of the Redis that holds it) if it has
   * neither entries nor an epoch. No script (appends alone are counted as scripts), and none is
   * needed: a stream is created with its epoch (append-script.ts), so `NX` fails on one made since.
   */
  async #create(topic: string): Promise<void> {
    const key = epochKey(this.#prefix, topic);
    if (Number(await this.#client.sendCommand<number>(["EXISTS", `${this.#prefix}:${topic}`])) > 0) return;
    const [s, us] = await this.#client.sendCommand<[string, string]>(["TIME"], key);
    const start = `${s}${String(Math.floor(Number(us) / 1000)).padStart(3, "0")}-0`;
    await this.#client.sendCommand(["SET", key, `${randomEpochId()} ${start} fresh`, "NX"]);
  }

  /**
   * Where a reader of `topic` stands, given the tailer's position there: before the tailer read
   * anything of the epoch (`0-0`, or a position of an older history it was moved back to, before
   * the epoch's start), the known epoch's start, which every entry of it follows.
   */
  position(topic: string, tailed: string | undefined): string | undefined {
    const start = this.#known.get(topic)?.start;
    return start !== undefined && (tailed === "0-0" || (tailed !== undefined && compareSeq(tailed, start) < 0)) ? start : tailed;
  }

  /** Notes the epoch of a tailed entry; `true` if it differs from the known one. */
  seen(topic: string, epoch: string | undefined, seq: string): boolean {
    if (epoch === undefined) return false;
    const known = this.#known.get(topic);
    if (known?.id === epoch) return false;
    // The new epoch began at or before its first entry.
    this.#known.set(topic, { id: epoch, start: `${seq.split("-")[0]}-0` });
    this.#seenCount.set(topic, (this.#seenCount.get(topic) ?? 0) + 1);
    return known !== undefined;
  }
}
