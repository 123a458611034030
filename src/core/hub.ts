/**
 * The hub turns events into frames and hands each frame to every subscriber of its topic
 * through the registered {@link Transport}s (WebSocket pub/sub, SSE), to taps, and to the
 * replays in progress ({@link CatchUps}).
 *
 * Two kinds of event:
 * - ephemeral (cron ticks, per-tick `TIMER_UPDATE`): not stored, carry a deadline, dropped when
 *   late and counted, never delivered late;
 * - durable (chat, relay, timer state changes): appended to the {@link TopicLog} first and
 *   delivered when the log's tail hands them back, so a client may replay them by offset.
 *
 * The publish path builds one frame string per topic per event (from the body's JSON text,
 * which a log entry already carries) and allocates nothing per subscriber. Entries are
 * delivered one at a time: one appended while another is delivered (an in-process log hands it
 * back inside `append`) waits for it ({@link SerialQueue}), so it neither overtakes it nor cuts
 * it short.
 * @module
 */
import { type CatchUpOptions, CatchUps, type ReplayTarget } from "./catch-up.ts";
import type { Clock } from "./clock.ts";
import { type Derivation, Derivations } from "./derivation.ts";
import { EphemeralStamps } from "./ephemeral-stamps.ts";
import { Fanout } from "./fanout.ts";
import { frameFromBodyJson } from "./frame.ts";
import { type HubMetrics, noopHubMetrics } from "./hub-metrics.ts";
import { Listeners } from "./listeners.ts";
import { Membership } from "./membership.ts";
import type { ReplayLimits } from "./replay-limits.ts";
import type { ResumeGroup } from "./resume-group.ts";
import { ephemeralAfter, ephemeralSeq } from "./seq.ts";
import { SerialQueue } from "./serial-queue.ts";
import { topicFamily } from "./topic.ts";
import type { AppendOptions, LogEntry, TopicLog } from "./topic-log.ts";
import type { Transport } from "./transport.ts";

/** Listener for every delivered durable entry (used by features that need another encoding). */
export type EntryTap = (entry: LogEntry, frame: string) => void;

export interface HubOptions {
  log: TopicLog;
  clock: Clock;
  metrics?: HubMetrics;
  /** Frames buffered per replaying subscriber while it reads history (see {@link CatchUpOptions}). */
  replayBufferSize?: number;
  /** Reports errors thrown by taps or transports; delivery continues. */
  onError?: (error: unknown, context: string) => void;
  /**
   * Root topics with a durable log. An ephemeral frame on one of them (or a topic derived from
   * it) carries the position of the last durable entry delivered there or on another root,
   * `<seq>.<k>` (see `seq.ts`, `ephemeral-stamps.ts`); on other topics (cron) its seq is its
   * tick's, `<tick>-0`.
   */
  durableRoots?: readonly string[];
  /** Bounds on replays (history reads in progress at once); see `replay-limits.ts`. */
  replayLimits?: ReplayLimits;
  /** Where a replay from `since` starts instead (a tick's seq: `tick-marks.ts`). */
  resolveSince?: CatchUpOptions["resolveSince"];
}

/** Event options. An event with a `deadline` is ephemeral. */
export interface EmitOptions {
  /** Epoch ms after which the event is worthless and dropped. */
  deadline: number;
  /** The tick boundary the event belongs to; becomes its seq (`<tick>-0`). */
  tickAt: number;
}

export class Hub {
  #log: TopicLog;
  #clock: Clock;
  #metrics: HubMetrics;
  #onError: (error: unknown, context: string) => void;
  #fanout: Fanout;
  #taps = new Map<string, Listeners<[LogEntry, string]>>();
  #catchUps: CatchUps;
  #lastDelivered = new Map<string, string>();
  #stamps = new EphemeralStamps(this.#lastDelivered);
  #derivations = new Derivations();
  #durableRoots: ReadonlySet<string>;
  /** Epoch of the last entry delivered per root, for ephemeral frames after it. */
  #lastEpoch = new Map<string, string>();
  /** `.<k>` of ephemeral seqs: +1 per emit, never behind the clock (ms × 1000), so instances agree. */
  #ephemeralK = 0;
  #untail: () => void;
  /** Every topic a connection joins or leaves, on any transport (presence listens). */
  readonly membership: Membership;

  constructor(opts: HubOptions) {
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#metrics = opts.metrics ?? noopHubMetrics;
    this.#onError = opts.onError ?? (() => {});
    this.#fanout = new Fanout(this.#metrics, this.#onError);
    this.membership = new Membership((error) => this.#onError(error, "membership listener"));
    this.#durableRoots = new Set(opts.durableRoots ?? []);
    this.#catchUps = new CatchUps({
      log: opts.log,
      metrics: this.#metrics,
      derivations: this.#derivations,
      lastDelivered: (topic) => this.lastDelivered(topic),
      bufferSize: opts.replayBufferSize ?? 10_000,
      limits: opts.replayLimits,
      resolveSince: opts.resolveSince,
      hasLog: opts.durableRoots ? (root) => this.#durableRoots.has(root) : undefined,
    });
    // One entry at a time: an append made while delivering (synchronous in-process logs) waits.
    const deliveries = new SerialQueue<LogEntry>(
      (entry) => this.#deliverEntry(entry),
      (error) => this.#onError(error, "delivery"),
    );
    const untail = opts.log.tail((entry) => deliveries.push(entry));
    const ungap = opts.log.onGap?.((topic) => this.#resetSubscribers(topic));
    this.#untail = () => {
      untail();
      ungap?.();
    };
  }

  get log(): TopicLog {
    return this.#log;
  }

  /** Registers a transport; every later event is offered to it. */
  addTransport(transport: Transport): void {
    this.#fanout.add(transport);
  }

  /** Publishes an ephemeral event on each of `topics` (its body serialized once); dropped and counted if late. */
  emit(topics: readonly string[], body: Record<string, unknown>, opts: EmitOptions): void {
    this.emitJson(topics, () => JSON.stringify(body), opts);
  }

  /**
   * {@link emit} for a caller that can produce the body's JSON more cheaply than
   * `JSON.stringify` (e.g. a per-tick update from cached fragments). `bodyJson` is called at most
   * once, and not at all when no topic has a receiver.
   */
  emitJson(topics: readonly string[], bodyJson: () => string, { deadline, tickAt }: EmitOptions): void {
    if (this.#clock.now() > deadline) {
      for (const topic of topics) this.#metrics.dropped(topicFamily(topic), "deadline", 1);
      return;
    }
    let json: string | undefined;
    const tickSeq = ephemeralSeq(tickAt);
    const k = (this.#ephemeralK = Math.max(this.#ephemeralK + 1, Math.floor(this.#clock.now()) * 1000));
    const ts = Math.floor(tickAt);
    let stamped: { root: string; seq: string } | undefined;
    for (const topic of topics) {
      // Most per-timer topics have nobody listening: count the event, skip building its frame
      // (with 10 000 timers that is most of a tick's work and garbage).
      const counts = this.#fanout.count(topic);
      if (!counts && !this.#catchUps.has(topic)) {
        this.#metrics.published(topicFamily(topic));
        continue;
      }
      json ??= bodyJson();
      const root = this.#derivations.rootOf(topic);
      let seq = tickSeq;
      let epoch: string | undefined;
      if (this.#durableRoots.has(root)) {
        // One position per root per event (its topics are mostly one root's, `timer:<id>`).
        if (stamped?.root !== root) stamped = { root, seq: ephemeralAfter(this.#stamps.position(root, this.lastDelivered(root)), k) };
        seq = stamped.seq;
        epoch = this.#lastEpoch.get(root) ?? this.#log.epoch?.(root)?.id;
      }
      const frame = frameFromBodyJson(topic, seq, ts, json, epoch);
      this.#fanout.deliver(topic, frame, seq, true, counts);
      this.#catchUps.feed(topic, frame, seq, true);
    }
  }

  /** Appends a durable event to the log; it is delivered when the log's tail returns it. */
  append(topic: string, body: Record<string, unknown>, opts?: AppendOptions): Promise<LogEntry> {
    return this.#log.append(topic, body, opts);
  }

  /** Newest durable seq delivered on `topic` (or its parent log) by this instance. */
  lastDelivered(topic: string): string | undefined {
    const root = this.#derivations.rootOf(topic);
    // Before the first delivery, the log knows where its tail starts (Redis: the stream's end).
    return this.#lastDelivered.get(root) ?? this.#log.lastDelivered(root);
  }

  /**
   * Where a subscriber that goes live on `topic` right now starts: the newest durable seq this
   * instance delivered there (before any, its epoch's start, else `0-0`) and its epoch. A client that has not received a
   * frame yet resumes from it after a disconnect, so nothing published meanwhile is lost.
   * `undefined` on topics without a durable log (cron): there is nothing to resume.
   */
  position(topic: string): { seq: string; epoch?: string } | undefined {
    const root = this.#derivations.rootOf(topic);
    if (!this.#durableRoots.has(root)) return undefined;
    const logEpoch = this.#log.epoch?.(root);
    const epoch = this.#lastEpoch.get(root) ?? logEpoch?.id;
    const seq = this.lastDelivered(topic) ?? logEpoch?.start ?? "0-0";
    return epoch === undefined ? { seq } : { seq, epoch };
  }

  /** Registers topics derived from a parent log (see {@link Derivation}). */
  derive(derivation: Derivation): void {
    this.#derivations.add(derivation);
  }

  /**
   * Hands `data` as is to the live subscribers of `channel` on every transport (no frame, not
   * counted): for endpoints that need another encoding of a topic, e.g. the relay's verbatim
   * broadcast. Use a channel name that is not a valid topic so clients cannot subscribe to it.
   */
  publishRaw(channel: string, data: string): void {
    for (const transport of this.#fanout.transports) {
      const n = transport.receivers(channel);
      if (n > 0) transport.deliver(channel, data, "", false, n);
    }
  }

  /** Calls `tap` for every durable entry delivered on `topic`. */
  tap(topic: string, tap: EntryTap): () => void {
    let taps = this.#taps.get(topic);
    if (!taps) {
      const created = new Listeners<[LogEntry, string]>((error) => this.#onError(error, `tap on ${topic}`));
      this.#taps.set(topic, (taps = created));
    }
    const remove = taps.add(tap);
    return () => {
      remove();
      if (taps.size === 0 && this.#taps.get(topic) === taps) this.#taps.delete(topic);
    };
  }

  /** Sends `target` the retained events of `topic` after `since`, then live ({@link CatchUps}). */
  replay(topic: string, since: string | undefined, target: ReplayTarget): Promise<void> {
    return this.#catchUps.replay(topic, since, target);
  }

  /** Merges the replays of topics resumed from one offset (see {@link ResumeGroup}). */
  resumeGroup(topics: readonly string[]): ResumeGroup {
    return this.#catchUps.group(topics);
  }

  /** Abandons any replay in progress for `target` (its connection closed). */
  cancelReplay(topic: string, target: ReplayTarget): void {
    this.#catchUps.cancel(topic, target);
  }

  stop(): void {
    this.#untail();
    this.#catchUps.clear();
  }

  #deliverEntry(entry: LogEntry): void {
    this.#lastDelivered.set(entry.topic, entry.seq);
    this.#stamps.delivered(entry.seq);
    if (entry.epoch !== undefined) this.#lastEpoch.set(entry.topic, entry.epoch);
    this.#deliverOn(entry.topic, entry);
    const derivations = this.#derivations.children(entry.topic);
    if (derivations) {
      for (const d of derivations) for (const topic of d.topicsOf(entry)) this.#deliverOn(topic, entry);
    }
    this.#metrics.fanoutLatency(Math.max(0, this.#clock.now() - entry.ts) / 1000);
  }

  #deliverOn(topic: string, entry: LogEntry): void {
    // Derived topics (`timer:<id>`, `session:<id>`) mostly have nobody listening: no frame then.
    const taps = this.#taps.get(topic);
    const counts = this.#fanout.count(topic);
    if (!counts && !taps && !this.#catchUps.has(topic)) {
      this.#metrics.published(topicFamily(topic));
      return;
    }
    const frame = frameFromBodyJson(topic, entry.seq, entry.ts, entry.json, entry.epoch);
    this.#fanout.deliver(topic, frame, entry.seq, false, counts);
    taps?.emit(entry, frame);
    this.#catchUps.feed(topic, frame, entry.seq, false);
  }

  /**
   * The log skipped entries of `root` (and so of its derived topics) for this instance, or its
   * history was replaced: every live subscriber missed them. Disconnect them all so that they
   * resume from their offset.
   */
  #resetSubscribers(root: string): void {
    // The log's own position and epoch from now on (a Redis that came back empty: its new
    // history's), not those of the last entry delivered, until an entry is delivered again.
    this.#lastDelivered.delete(root);
    this.#lastEpoch.delete(root);
    this.#stamps.reset(root);
    const affected = (topic: string) => this.#derivations.rootOf(topic) === root;
    let n = 0;
    for (const transport of this.#fanout.transports) n += transport.reset(affected);
    n += this.#catchUps.reset(affected); // replaying, or not live yet: not the transports' to find
    if (n > 0) this.#metrics.dropped(topicFamily(root), "overflow", n);
    this.#onError(new Error(`log gap on ${root}: ${n} subscribers disconnected to resume`), "log gap");
  }
}
