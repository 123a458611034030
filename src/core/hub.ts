/**
 * The hub turns events into frames and hands each frame to every subscriber of its topic: native
 * WebSocket pub/sub (one `publish` per topic, Bun fans it out in C++) and SSE sinks.
 *
 * Two kinds of event:
 * - ephemeral (cron ticks, per-tick `TIMER_UPDATE`): not stored, carry a deadline, dropped when
 *   late and counted, never delivered late;
 * - durable (chat, relay, timer state changes): appended to the {@link TopicLog} first and
 *   delivered when the log's tail hands them back, so a client may replay them by offset.
 *
 * The publish path does one `JSON.stringify` per event and no per-subscriber allocation.
 * @module
 */
import type { Clock } from "./clock.ts";
import { frameFromBodyJson, sseEvent } from "./frame.ts";
import { RingBuffer } from "./ring-buffer.ts";
import { compareSeq, ephemeralSeq } from "./seq.ts";
import type { LogEntry, TopicLog } from "./topic-log.ts";
import { topicFamily } from "./topic.ts";

/** The WebSocket side of the server, as the hub needs it (Bun's `Server` fits). */
export interface WsFanout {
  /** Bun's `server.publish`: the worst subscriber's status, 0 when one of them dropped it. */
  publish(topic: string, data: string): number;
  subscriberCount(topic: string): number;
  /**
   * Called when `publish` reported a drop: the subscribers of `topic` too backed up to take a
   * frame of `bytes` lost it. Returns how many did. For a durable frame they must be closed
   * (4008) so that they resume with `since`; an ephemeral frame is simply lost to them.
   */
  dropped?(topic: string, bytes: number, ephemeral: boolean): number;
  /** Closes (4008) every socket subscribed to a topic matching `match`; returns how many. */
  closeSubscribers?(match: (topic: string) => boolean): number;
}

/** An SSE connection's writer. It applies its own bounded-queue policy. */
export interface SseSink {
  /**
   * Queues an encoded SSE event; `ephemeral` events may be dropped under backpressure. The
   * chunk is shared by every sink of the topic and must not be modified.
   */
  send(chunk: Uint8Array, ephemeral: boolean, family: string): void;
  /** Ends the stream with `event: overflow` so that the client resumes with `Last-Event-ID`. */
  overflow?(): void;
}

/** Why an event did not reach a subscriber. */
export type DropReason = "deadline" | "backpressure" | "overflow" | "no_subscribers";

/** Counters the hub reports to; implemented over prom-client outside the core. */
export interface HubMetrics {
  published(family: string): void;
  delivered(family: string, count: number): void;
  dropped(family: string, reason: DropReason, count: number): void;
  /** Seconds from the event's creation to its hand-off to the sockets. */
  fanoutLatency(seconds: number): void;
}

export const noopHubMetrics: HubMetrics = {
  published() {},
  delivered() {},
  dropped() {},
  fanoutLatency() {},
};

/** Something catching up on a topic's history before it receives live frames. */
export interface ReplayTarget {
  /** Sends one frame. Returns `false` if it cannot be queued; the replay then stops. */
  send(frame: string, seq: string, ephemeral: boolean): boolean;
  /** Called first when events after `since` were already evicted. */
  notRecovered(): void;
  /** Switches the target to live delivery (e.g. `ws.subscribe(topic)`), synchronously. */
  goLive(): void;
  /** Called instead of `goLive` when the target could not keep up; it should be closed. */
  overflowed(): void;
  readonly closed: boolean;
}

/**
 * Topics derived from a parent log: an entry appended to `parent` is also delivered, with the
 * same seq, on each topic `topicsOf(entry)` names, and replaying a derived topic reads the
 * parent's history and keeps the entries that name it. This is how `timer:<id>` and
 * `session:<id>` ride on the one `timers` log: one append and one stream per feature instead of
 * an unbounded set of streams for the Redis tailer to follow.
 */
export interface Derivation {
  parent: string;
  topicsOf(entry: LogEntry): readonly string[];
  /** Whether `topic` is one this derivation can produce. */
  matches(topic: string): boolean;
}

/** Listener for every delivered durable entry (used by features that need another encoding). */
export type EntryTap = (entry: LogEntry, frame: string) => void;

export interface HubOptions {
  log: TopicLog;
  clock: Clock;
  metrics?: HubMetrics;
  /**
   * Frames buffered per replaying subscriber while it reads history. Reaching it ends the replay
   * with `overflowed()`: the client reconnects from its last seq and loses nothing.
   */
  replayBufferSize?: number;
  /** Reports errors thrown by taps or sinks; delivery continues. */
  onError?: (error: unknown, context: string) => void;
}

interface CatchUp {
  target: ReplayTarget;
  /** Newest durable seq already sent to the target (or `since`): older ones are duplicates. */
  last: string | undefined;
  /** Newest history entry sent; live delivery waits until this instance's tail has passed it. */
  mustPass: string | undefined;
  /** Live frames held while history is being read. */
  held: RingBuffer<{ frame: string; seq: string; ephemeral: boolean; deadline: number }> | undefined;
}

/** Event options. An event with a `deadline` is ephemeral. */
export interface EmitOptions {
  /** Epoch ms after which the event is worthless and dropped. */
  deadline: number;
  /** The tick boundary the event belongs to; becomes its seq (`<tick>-0`). */
  tickAt: number;
}

const utf8 = new TextEncoder();

export class Hub {
  #opts: Required<Omit<HubOptions, "onError">> & Pick<HubOptions, "onError">;
  #ws: WsFanout | undefined;
  #sse = new Map<string, Set<SseSink>>();
  #taps = new Map<string, Set<EntryTap>>();
  #catchUps = new Map<string, Set<CatchUp>>();
  #lastDelivered = new Map<string, string>();
  #derivations = new Map<string, Derivation[]>();
  #untail: () => void;

  constructor(opts: HubOptions) {
    this.#opts = { metrics: noopHubMetrics, replayBufferSize: 10_000, ...opts };
    const untail = opts.log.tail((entry) => this.#deliverEntry(entry));
    const ungap = opts.log.onGap?.((topic) => this.#resetSubscribers(topic));
    this.#untail = () => {
      untail();
      ungap?.();
    };
  }

  get log(): TopicLog {
    return this.#opts.log;
  }

  /** Connects the WebSocket fan-out once the server exists. */
  attach(ws: WsFanout): void {
    this.#ws = ws;
  }

  /**
   * Publishes an ephemeral event on each of `topics`, serializing the body once. Dropped and
   * counted if the deadline has already passed.
   */
  emit(topics: readonly string[], body: Record<string, unknown>, opts: EmitOptions): void {
    this.emitJson(topics, () => JSON.stringify(body), opts);
  }

  /**
   * {@link emit} for a caller that can produce the body's JSON more cheaply than
   * `JSON.stringify` (e.g. a per-tick update from cached fragments). `bodyJson` is called at most
   * once, and not at all when no topic has a receiver.
   */
  emitJson(topics: readonly string[], bodyJson: () => string, { deadline, tickAt }: EmitOptions): void {
    const now = this.#opts.clock.now();
    if (now > deadline) {
      for (const topic of topics) this.#opts.metrics.dropped(topicFamily(topic), "deadline", 1);
      return;
    }
    let json: string | undefined;
    const seq = ephemeralSeq(tickAt);
    const ts = Math.floor(tickAt);
    for (const topic of topics) {
      // Most per-timer topics have nobody listening: count the event, skip building its frame
      // (with 10 000 timers that is most of a tick's work and garbage).
      const wsCount = this.#wsReceivers(topic);
      if (wsCount < 0) {
        this.#opts.metrics.published(topicFamily(topic));
        continue;
      }
      json ??= bodyJson();
      const frame = frameFromBodyJson(topic, seq, ts, json);
      this.#fanout(topic, frame, seq, true, wsCount);
      this.#feedCatchUps(topic, frame, seq, true, deadline);
    }
  }

  /**
   * The WebSocket subscriber count of `topic`, or -1 when nothing at all (WS subscriber, SSE
   * sink, replay in progress) would receive it. Asked once per topic per event.
   */
  #wsReceivers(topic: string): number {
    const n = this.#ws?.subscriberCount(topic) ?? 0;
    return n > 0 || this.#catchUps.has(topic) || this.#sse.has(topic) ? n : -1;
  }

  /** Appends a durable event to the log; it is delivered when the log's tail returns it. */
  append(topic: string, body: Record<string, unknown>): Promise<LogEntry> {
    return this.#opts.log.append(topic, body);
  }

  /** Newest durable seq delivered on `topic` (or its parent log) by this instance. */
  lastDelivered(topic: string): string | undefined {
    const root = this.#parentOf(topic)?.parent ?? topic;
    // Before the first delivery, the log knows where its tail starts (Redis: the stream's end).
    return this.#lastDelivered.get(root) ?? this.#opts.log.lastDelivered(root);
  }

  /** Registers topics derived from a parent log (see {@link Derivation}). */
  derive(derivation: Derivation): void {
    const list = this.#derivations.get(derivation.parent) ?? [];
    list.push(derivation);
    this.#derivations.set(derivation.parent, list);
  }

  /**
   * Publishes `data` as is to native WebSocket subscribers of `channel` (no frame, no SSE, not
   * counted): for endpoints that need another encoding of a topic, e.g. the relay's verbatim
   * broadcast. Use a channel name that is not a valid topic so clients cannot subscribe to it.
   */
  publishRaw(channel: string, data: string): void {
    if (this.#ws && this.#ws.publish(channel, data) === 0) this.#reportDrop(channel, data.length, false);
  }

  /** Calls `tap` for every durable entry delivered on `topic`. */
  tap(topic: string, tap: EntryTap): () => void {
    let set = this.#taps.get(topic);
    if (!set) this.#taps.set(topic, (set = new Set()));
    set.add(tap);
    return () => {
      set.delete(tap);
      if (set.size === 0) this.#taps.delete(topic);
    };
  }

  addSse(topic: string, sink: SseSink): void {
    let set = this.#sse.get(topic);
    if (!set) this.#sse.set(topic, (set = new Set()));
    set.add(sink);
  }

  removeSse(topic: string, sink: SseSink): void {
    const set = this.#sse.get(topic);
    if (!set) return;
    set.delete(sink);
    if (set.size === 0) this.#sse.delete(topic);
  }

  /** SSE subscribers across all topics (a connection on two topics counts twice). */
  get sseSubscriptions(): number {
    let n = 0;
    for (const set of this.#sse.values()) n += set.size;
    return n;
  }

  /**
   * Sends `target` every retained event of `topic` after `since`, then switches it to live with
   * no gap and no duplicate. Live events arriving meanwhile are held (bounded) and sent after the
   * history; with a lagging tailer (Redis) the target stays on the direct path until the tailer
   * has passed the newest history entry, so nothing is delivered twice.
   */
  async replay(topic: string, since: string | undefined, target: ReplayTarget): Promise<void> {
    const catchUp: CatchUp = {
      target,
      last: since,
      mustPass: undefined,
      held: new RingBuffer({ capacity: this.#opts.replayBufferSize, overflow: "reject" }),
    };
    let set = this.#catchUps.get(topic);
    if (!set) this.#catchUps.set(topic, (set = new Set()));
    set.add(catchUp);
    try {
      const derivation = this.#parentOf(topic);
      const history = await this.#opts.log.readAfter(derivation?.parent ?? topic, since);
      if (target.closed) return this.#endCatchUp(topic, catchUp, false);
      if (!set.has(catchUp)) return;
      if (!history.recovered) target.notRecovered();
      // A client may hand over a `since` newer than this instance's lagging tail (it saw the
      // entry on another instance): the tail must pass it, or the log's tip if `since` is past
      // it (an ephemeral seq), before going live, or that entry would arrive twice.
      if (since !== undefined && history.tip !== undefined) {
        catchUp.mustPass = compareSeq(since, history.tip) < 0 ? since : history.tip;
      }
      for (const entry of history.entries) {
        if (catchUp.last !== undefined && compareSeq(entry.seq, catchUp.last) <= 0) continue;
        if (derivation && !derivation.topicsOf(entry).includes(topic)) continue;
        const frame = frameFromBodyJson(topic, entry.seq, entry.ts, JSON.stringify(entry.body));
        if (!target.send(frame, entry.seq, false)) return this.#endCatchUp(topic, catchUp, false);
        catchUp.last = entry.seq;
        catchUp.mustPass = entry.seq;
      }
      const held = catchUp.held!;
      catchUp.held = undefined;
      const now = this.#opts.clock.now();
      for (let item = held.shift(); item; item = held.shift()) {
        if (item.ephemeral) {
          if (now > item.deadline) {
            this.#opts.metrics.dropped(topicFamily(topic), "deadline", 1);
            continue;
          }
        } else if (catchUp.last !== undefined && compareSeq(item.seq, catchUp.last) <= 0) {
          continue;
        } else {
          catchUp.last = item.seq;
        }
        if (!target.send(item.frame, item.seq, item.ephemeral)) return this.#endCatchUp(topic, catchUp, false);
      }
      this.#maybeGoLive(topic, catchUp);
    } catch (error) {
      set.delete(catchUp);
      if (set.size === 0 && this.#catchUps.get(topic) === set) this.#catchUps.delete(topic);
      throw error;
    }
  }

  /** Abandons any replay in progress for `target` (its connection closed). */
  cancelReplay(topic: string, target: ReplayTarget): void {
    const set = this.#catchUps.get(topic);
    if (!set) return;
    for (const c of set) if (c.target === target) set.delete(c);
    if (set.size === 0) this.#catchUps.delete(topic);
  }

  stop(): void {
    this.#untail();
    this.#sse.clear();
    this.#catchUps.clear();
  }

  #parentOf(topic: string): Derivation | undefined {
    for (const list of this.#derivations.values()) {
      for (const d of list) if (d.matches(topic)) return d;
    }
    return undefined;
  }

  #deliverEntry(entry: LogEntry): void {
    const bodyJson = JSON.stringify(entry.body);
    this.#lastDelivered.set(entry.topic, entry.seq);
    this.#deliverOn(entry.topic, entry, bodyJson);
    const derivations = this.#derivations.get(entry.topic);
    if (derivations) {
      for (const d of derivations) for (const topic of d.topicsOf(entry)) this.#deliverOn(topic, entry, bodyJson);
    }
    this.#opts.metrics.fanoutLatency(Math.max(0, this.#opts.clock.now() - entry.ts) / 1000);
  }

  #deliverOn(topic: string, entry: LogEntry, bodyJson: string): void {
    // Derived topics (`timer:<id>`, `session:<id>`) mostly have nobody listening: no frame then.
    const wsCount = this.#wsReceivers(topic);
    if (wsCount < 0 && !this.#taps.has(topic)) {
      this.#opts.metrics.published(topicFamily(topic));
      return;
    }
    const frame = frameFromBodyJson(topic, entry.seq, entry.ts, bodyJson);
    this.#fanout(topic, frame, entry.seq, false, wsCount);
    const taps = this.#taps.get(topic);
    if (taps) {
      for (const tap of taps) {
        try {
          tap(entry, frame);
        } catch (error) {
          this.#opts.onError?.(error, `tap on ${topic}`);
        }
      }
    }
    this.#feedCatchUps(topic, frame, entry.seq, false, Infinity);
  }

  /** Publishes `frame` to the `wsCount` native subscribers and the SSE sinks of `topic`. */
  #fanout(topic: string, frame: string, seq: string, ephemeral: boolean, wsCount: number): void {
    const family = topicFamily(topic);
    const metrics = this.#opts.metrics;
    metrics.published(family);
    let delivered = 0;
    if (this.#ws) {
      const n = wsCount;
      if (n > 0) {
        // Retrying a 0 would duplicate the frame for everyone else; the drop is handled per socket.
        if (this.#ws.publish(topic, frame) === 0) {
          if (ephemeral) {
            // Lost to the backed-up sockets, which is the policy for ephemeral events. Not worth
            // finding which: a scan of every socket on every tick would stall the ticker.
            metrics.dropped(family, "backpressure", 1);
          } else {
            delivered -= this.#reportDrop(topic, frame.length, ephemeral);
          }
        }
        delivered += n;
      }
    }
    const sinks = this.#sse.get(topic);
    if (sinks && sinks.size > 0) {
      const chunk = utf8.encode(sseEvent(seq, frame));
      for (const sink of sinks) {
        try {
          sink.send(chunk, ephemeral, family);
        } catch (error) {
          this.#opts.onError?.(error, `sse sink on ${topic}`);
        }
      }
      delivered += sinks.size;
    }
    if (delivered > 0) metrics.delivered(family, delivered);
  }

  /**
   * The log skipped entries of `topic` (and so of its derived topics) for this instance: every
   * live subscriber missed them. Disconnect them all so that they resume from their offset.
   */
  #resetSubscribers(root: string): void {
    const affected = (topic: string) => topic === root || this.#parentOf(topic)?.parent === root;
    let n = this.#ws?.closeSubscribers?.(affected) ?? 0;
    for (const [topic, sinks] of this.#sse) {
      if (!affected(topic)) continue;
      for (const sink of [...sinks]) {
        sink.overflow?.();
        n++;
      }
    }
    if (n > 0) this.#opts.metrics.dropped(topicFamily(root), "overflow", n);
    this.#opts.onError?.(new Error(`log gap on ${root}: ${n} subscribers disconnected to resume`), "log gap");
  }

  #reportDrop(topic: string, bytes: number, ephemeral: boolean): number {
    const n = this.#ws?.dropped?.(topic, bytes, ephemeral) ?? 0;
    if (n > 0) this.#opts.metrics.dropped(topicFamily(topic), ephemeral ? "backpressure" : "overflow", n);
    return n;
  }

  /**
   * Hands a frame to the replays in progress on `topic`. Runs after every live path (publish,
   * SSE, taps) for the frame, so a catch-up that switches to live here cannot receive it twice.
   */
  #feedCatchUps(topic: string, frame: string, seq: string, ephemeral: boolean, deadline: number): void {
    const catchUps = this.#catchUps.get(topic);
    if (catchUps) {
      for (const c of catchUps) this.#feedCatchUp(topic, c, frame, seq, ephemeral, deadline);
    }
  }

  #feedCatchUp(topic: string, c: CatchUp, frame: string, seq: string, ephemeral: boolean, deadline: number): void {
    if (c.target.closed) return this.#endCatchUp(topic, c, false);
    if (c.held) {
      // Ephemeral events are not held: they would be stale by the time history has been sent, and
      // a tick of 10 000 timer updates would overflow the buffer and close every replaying client.
      if (ephemeral) return this.#opts.metrics.dropped(topicFamily(topic), "deadline", 1);
      if (!c.held.push({ frame, seq, ephemeral, deadline })) this.#endCatchUp(topic, c, false);
      return;
    }
    if (!ephemeral) {
      // Already sent from history: skip it, but the tail passing it may be what lets us go live.
      if (c.last !== undefined && compareSeq(seq, c.last) <= 0) return this.#maybeGoLive(topic, c);
      c.last = seq;
    }
    if (!c.target.send(frame, seq, ephemeral)) return this.#endCatchUp(topic, c, false);
    this.#maybeGoLive(topic, c);
  }

  #maybeGoLive(topic: string, c: CatchUp): void {
    const delivered = this.lastDelivered(topic);
    if (c.mustPass === undefined || (delivered !== undefined && compareSeq(delivered, c.mustPass) >= 0)) {
      this.#endCatchUp(topic, c, true);
    }
  }

  #endCatchUp(topic: string, c: CatchUp, live: boolean): void {
    const set = this.#catchUps.get(topic);
    if (!set?.delete(c)) return;
    if (set.size === 0) this.#catchUps.delete(topic);
    if (c.target.closed) return;
    if (live) c.target.goLive();
    else c.target.overflowed();
  }
}
