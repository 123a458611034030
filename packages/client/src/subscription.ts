/**
 * One topic's subscription state: the last seq and epoch the application was handed, which is
 * where every reconnect resumes from. It is also the last line against duplicates and silent
 * loss: a frame at or before the last seq of its epoch is dropped, and a frame of another epoch
 * (its history was replaced) is announced with `onRecovered({ recovered: false })` first, unless
 * the server already said so.
 * @module
 */
import type { FrameHead } from "./frames.ts";
import { compareSeq, durablePart } from "./seq.ts";

/** Why the application must reload what it shows of a topic. */
export interface RecoveryInfo {
  topic: string;
  recovered: false;
  /** `server`: the server could not replay from our seq (evicted, or its history was lost); `epoch`: a frame came from another history. */
  reason: "server" | "epoch";
}

export interface SubscribeOptions<F> {
  /** Resume after this seq (replayed from the retained history); absent: live from now. */
  since?: string;
  onMessage(frame: F): void;
  /** Events may have been missed: reload the state (e.g. `GET /messages`), then go on. */
  onRecovered?(info: RecoveryInfo): void;
  /** The server confirmed the subscription, on every (re)connect; `since` is where it resumed from. */
  onSubscribed?(info: { topic: string; since: string | undefined }): void;
  /** The server refused the subscription (forbidden, bad topic, limit); it is dropped. */
  onError?(error: TickwireError): void;
}

/** An error the server answered with (`{"op":"error","code","message"}`), or a lost connection. */
export class TickwireError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "TickwireError";
  }
}

export class TopicState<F extends FrameHead = FrameHead> {
  /** The newest seq handed to the application (or given as `since`, or the subscribe ack's position). */
  lastSeq: string | undefined;
  epoch: string | undefined;
  /**
   * What a frame must come after to be new: `lastSeq`, until a new connection (see {@link resume})
   * or a reset the server announced (see {@link notRecovered}: none then).
   */
  #floor: string | undefined;
  /** The server said `recovered:false`: the next epoch change is that same reset. */
  #resetAnnounced = false;
  /**
   * Whether the topic has a history to resume from: the server gave a position for it, or a
   * frame named its epoch, or the application gave `since`. Others (cron) resubscribe live: a
   * replay of them would only read an empty log.
   */
  #durable: boolean;

  constructor(
    readonly topic: string,
    readonly handlers: SubscribeOptions<F>,
  ) {
    this.lastSeq = handlers.since;
    this.#floor = handlers.since;
    this.#durable = handlers.since !== undefined;
  }

  /** Where a (re)subscription resumes after; `undefined`: live. */
  get resumeFrom(): string | undefined {
    return this.#durable ? this.lastSeq : undefined;
  }

  /**
   * {@link resumeFrom}, for a subscription on a new connection. Ephemeral frames are never sent
   * again, so from then on only the durable position counts: a server restarted with its clock
   * behind numbers its ephemeral frames (`<seq>.<k>`, a tick's `<ms>-0`) below the ones before,
   * and they must not pass for duplicates until its clock catches up.
   */
  resume(): string | undefined {
    this.#floor = this.#durable && this.lastSeq !== undefined ? durablePart(this.lastSeq) : undefined;
    return this.resumeFrom;
  }

  /** The subscribe ack's position (a subscription without a seq yet): resume from there. */
  acked(position: { seq?: unknown; epoch?: unknown }): void {
    if (typeof position.seq === "string") this.#durable = true;
    if (this.lastSeq === undefined && typeof position.seq === "string") this.#floor = this.lastSeq = position.seq;
    if (this.epoch === undefined && typeof position.epoch === "string") this.epoch = position.epoch;
  }

  /**
   * The server cannot replay from our seq: what follows is new, whatever its seqs (a new history
   * numbers from its own clock, maybe behind ours, and its epoch may not be known to differ: an
   * application-given `since` comes without one).
   */
  notRecovered(): void {
    this.#resetAnnounced = true;
    this.#floor = undefined;
    this.#recover("server");
  }

  /** Hands `frame` to the application unless it is a duplicate. */
  frame(frame: F): void {
    const epoch = frame.epoch;
    let newHistory = false;
    if (epoch !== undefined) this.#durable = true;
    if (epoch !== undefined && epoch !== this.epoch) {
      if (this.epoch !== undefined && !this.#resetAnnounced) this.#recover("epoch");
      newHistory = this.epoch !== undefined;
      this.epoch = epoch;
    }
    if (!newHistory && this.#floor !== undefined && compareSeq(frame.seq, this.#floor) <= 0) return;
    this.#resetAnnounced = false;
    this.#floor = this.lastSeq = frame.seq;
    this.handlers.onMessage(frame);
  }

  #recover(reason: RecoveryInfo["reason"]): void {
    this.handlers.onRecovered?.({ topic: this.topic, recovered: false, reason });
  }
}
