/**
 * The replay (catch-up) state machine: a subscriber that resumes from an offset first gets the
 * retained history after it, then switches to live delivery with no gap and no duplicate.
 *
 * While history is being read, live durable frames for the topic are held (bounded) and sent
 * after it; ephemeral ones are dropped, they would be stale by then. With a lagging tailer
 * (Redis) the subscriber stays on this direct path until the tail has passed the newest entry
 * it was sent, so nothing reaches it twice.
 * @module
 */
import type { Derivations } from "./derivation.ts";
import { frameFromBodyJson } from "./frame.ts";
import type { HubMetrics } from "./hub-metrics.ts";
import type { ReplayLimits } from "./replay-limits.ts";
import type { ReplayTarget } from "./replay-target.ts";
import { ResumeGroup } from "./resume-group.ts";
import { RingBuffer } from "./ring-buffer.ts";
import { compareSeq, durablePart } from "./seq.ts";
import { topicFamily } from "./topic.ts";
import type { TopicLog } from "./topic-log.ts";

export type { ReplayTarget } from "./replay-target.ts";

export interface CatchUpOptions {
  log: TopicLog;
  metrics: HubMetrics;
  derivations: Derivations;
  /** The newest durable seq this instance's tail has delivered on `topic` (or its parent). */
  lastDelivered(topic: string): string | undefined;
  /**
   * Frames held per replaying subscriber while it reads history. Reaching it ends the replay
   * with `overflowed()`: the client reconnects from its last seq and loses nothing.
   */
  bufferSize: number;
  /** Bounds the history reads in progress at once (see `replay-limits.ts`). */
  limits?: ReplayLimits;
  /** Where a replay of `root` from `since` starts instead (a tick's seq: `tick-marks.ts`). */
  resolveSince?: (root: string, since: string) => string | Promise<string>;
  /** Whether `root` has a durable log; absent: every root has. One without (cron) has nothing to replay, or to have lost. */
  hasLog?: (root: string) => boolean;
}

/** History entries sent in one event-loop turn. */
const REPLAY_SLICE = 64;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Held {
  frame: string;
  seq: string;
}

interface CatchUp {
  target: ReplayTarget;
  /** Newest durable seq already sent to the target (or `since`): older ones are duplicates. */
  last: string | undefined;
  /** Newest history entry sent; live delivery waits until this instance's tail has passed it. */
  mustPass: string | undefined;
  /** Live durable frames held while history is being read. */
  held: RingBuffer<Held> | undefined;
}

/** The replays in progress, by topic. */
export class CatchUps {
  #opts: CatchUpOptions;
  #byTopic = new Map<string, Set<CatchUp>>();

  constructor(opts: CatchUpOptions) {
    this.#opts = opts;
  }

  has(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  /** Merges the replays of `topics`, resumed from one offset (see resume-group.ts). */
  group(topics: readonly string[]): ResumeGroup {
    const { metrics, bufferSize, lastDelivered } = this.#opts;
    return new ResumeGroup(topics, {
      limit: bufferSize,
      droppedStale: (topic) => metrics.dropped(topicFamily(topic), "deadline", 1),
      tailPassed: (topic, seq) => {
        const delivered = lastDelivered(topic);
        return delivered !== undefined && compareSeq(delivered, seq) >= 0;
      },
    });
  }

  /** Sends `target` every retained event of `topic` after `since`, then switches it to live. */
  async replay(topic: string, since: string | undefined, target: ReplayTarget): Promise<void> {
    const c: CatchUp = {
      target,
      last: since,
      mustPass: undefined,
      held: new RingBuffer({ capacity: this.#opts.bufferSize, overflow: "reject" }),
    };
    let set = this.#byTopic.get(topic);
    if (!set) this.#byTopic.set(topic, (set = new Set()));
    set.add(c);
    try {
      const derivation = this.#opts.derivations.of(topic);
      const root = derivation?.parent ?? topic;
      const log = this.#opts.log;
      if (since !== undefined && this.#opts.resolveSince) {
        const start = this.#opts.resolveSince(root, since);
        since = typeof start === "string" ? start : await start;
        if (target.closed) return this.#end(topic, c, false);
        if (!set.has(c)) return;
        c.last = since;
      }
      const recent = this.#opts.hasLog?.(root) === false ? { entries: [], recovered: true } : log.readRecent?.(root, since);
      const history = recent ?? (await (this.#opts.limits ? this.#opts.limits.run(() => log.readAfter(root, since)) : log.readAfter(root, since)));
      if (target.closed) return this.#end(topic, c, false);
      if (!set.has(c)) return;
      if (!history.recovered) {
        target.notRecovered();
        // A `since` past this history's end (a future a restored Redis lacks, a clock stepped
        // back) says nothing of what the client has of it: only what is sent from now on may
        // count as sent, or every live entry before that `since` would be skipped as a
        // duplicate while the target is on the direct path (a merged resume: the first live
        // entry of each topic, after the client had been told to reload).
        const end = history.tip ?? this.#opts.lastDelivered(topic);
        if (since !== undefined && (end === undefined || compareSeq(durablePart(since), end) > 0)) c.last = undefined;
      }
      // A client may hand over a `since` newer than this instance's lagging tail (it saw the
      // entry on another instance): the tail must pass it, or the log's tip if `since` is past
      // it (an ephemeral seq), before going live, or that entry would arrive twice.
      if (since !== undefined && history.tip !== undefined) {
        c.mustPass = compareSeq(since, history.tip) < 0 ? since : history.tip;
      }
      let sent = 0;
      for (const entry of history.entries) {
        // A long history goes out in slices, the event loop free in between (live frames are
        // held meanwhile): one replay of 1000 entries must not stall every other client.
        if (++sent % REPLAY_SLICE === 0) {
          await nextTurn();
          if (target.closed) return this.#end(topic, c, false);
          if (!set.has(c)) return;
        }
        if (c.last !== undefined && compareSeq(entry.seq, c.last) <= 0) continue;
        if (derivation && !derivation.topicsOf(entry).includes(topic)) continue;
        const frame = frameFromBodyJson(topic, entry.seq, entry.ts, entry.json, entry.epoch);
        if (!target.send(frame, entry.seq, false)) return this.#end(topic, c, false);
        c.last = entry.seq;
        c.mustPass = entry.seq;
      }
      const held = c.held!;
      c.held = undefined;
      for (let item = held.shift(); item; item = held.shift()) {
        if (c.last !== undefined && compareSeq(item.seq, c.last) <= 0) continue;
        c.last = item.seq;
        if (!target.send(item.frame, item.seq, false)) return this.#end(topic, c, false);
      }
      target.historySent?.(c.last === since ? undefined : c.last);
      this.#maybeGoLive(topic, c);
    } catch (error) {
      set.delete(c);
      if (set.size === 0 && this.#byTopic.get(topic) === set) this.#byTopic.delete(topic);
      throw error;
    }
  }

  /**
   * Hands a live frame to the replays in progress on `topic`. The hub calls it after every live
   * path for the frame, so a catch-up that switches to live here cannot receive it twice.
   */
  feed(topic: string, frame: string, seq: string, ephemeral: boolean): void {
    const set = this.#byTopic.get(topic);
    if (set) for (const c of set) this.#feedOne(topic, c, frame, seq, ephemeral);
  }

  /** Abandons any replay in progress for `target` (its connection closed). */
  cancel(topic: string, target: ReplayTarget): void {
    const set = this.#byTopic.get(topic);
    if (!set) return;
    for (const c of set) if (c.target === target) set.delete(c);
    if (set.size === 0) this.#byTopic.delete(topic);
  }

  clear(): void {
    this.#byTopic.clear();
  }

  /**
   * Ends, as overflowed, the subscribers of the topics `affected` names (a log gap) that are not
   * live yet; returns how many. One still reading or sending its history ends too: its read may
   * predate the gap (the window answered `recovered` for what it held), and the entries the tail
   * hands over after the gap would follow it with the missed ones between. Resuming, the client
   * gets a read that answers for the gap.
   */
  reset(affected: (topic: string) => boolean): number {
    let n = 0;
    for (const [topic, set] of [...this.#byTopic]) {
      if (!affected(topic)) continue;
      for (const c of [...set]) {
        if (!c.target.closed) n++;
        this.#end(topic, c, false);
      }
    }
    return n;
  }

  #feedOne(topic: string, c: CatchUp, frame: string, seq: string, ephemeral: boolean): void {
    if (c.target.closed) return this.#end(topic, c, false);
    if (c.held) {
      // Ephemeral events are not held: they would be stale by the time history has been sent, and
      // a tick of 10 000 timer updates would overflow the buffer and close every replaying client.
      if (ephemeral) return this.#opts.metrics.dropped(topicFamily(topic), "deadline", 1);
      if (!c.held.push({ frame, seq })) this.#end(topic, c, false);
      return;
    }
    if (!ephemeral) {
      // Already sent from history: skip it, but the tail passing it may be what lets us go live.
      if (c.last !== undefined && compareSeq(seq, c.last) <= 0) return this.#maybeGoLive(topic, c);
      c.last = seq;
    } else if (c.last !== undefined && seq !== durablePart(seq) && compareSeq(seq, c.last) <= 0) {
      // Stamped `<seq>.<k>` at a position behind what the client has (this instance's tail
      // lags): a resume from it would repeat entries. Dropped as stale, like any late ephemeral
      // frame; the topic may still go live now. (A tick's own `<tick>-0` says nothing of a
      // durable position. Restamping it here would make the topic's seqs go back once live.)
      this.#opts.metrics.dropped(topicFamily(topic), "deadline", 1);
      return this.#maybeGoLive(topic, c);
    }
    if (!c.target.send(frame, seq, ephemeral)) return this.#end(topic, c, false);
    this.#maybeGoLive(topic, c);
  }

  #maybeGoLive(topic: string, c: CatchUp): void {
    const delivered = this.#opts.lastDelivered(topic);
    if (c.mustPass === undefined || (delivered !== undefined && compareSeq(delivered, c.mustPass) >= 0)) {
      if (c.target.mayGoLive?.() !== false) this.#end(topic, c, true);
    }
  }

  #end(topic: string, c: CatchUp, live: boolean): void {
    const set = this.#byTopic.get(topic);
    if (!set?.delete(c)) return;
    if (set.size === 0) this.#byTopic.delete(topic);
    if (c.target.closed) return;
    if (live) c.target.goLive();
    else c.target.overflowed();
  }
}
