/**
 * One offset for several topics (`/events?topics=chat,relay` with `Last-Event-ID`,
 * `/ws?topics=a,b&since=`): the client keeps the last seq it saw, of whichever topic, and resumes
 * every topic from it. That loses nothing only if the seqs it is sent increase across the topics
 * too, but each topic replays on its own (in slices, the event loop free in between), so a quiet
 * topic goes live while a long one is still replaying, and a live seq would overtake older
 * replayed ones: a client cut off just after it would skip them.
 *
 * So the topics' replays are merged. Every frame any of them sends is held until all of them
 * have sent their history and this instance's tail has delivered the newest entry any of them
 * sent (Redis: a history read may run ahead of the tail; the tail delivers in seq order across
 * streams, so every older entry of every topic has then reached the group). The held frames are
 * then written in seq order (in slices, like a replay), and only then may the topics go live.
 * Live frames arriving meanwhile are newer than everything held and queue behind it. Ephemeral
 * frames meanwhile are dropped (they would be stale), as a single replay does.
 *
 * Bounded: each topic's history and its catch-up buffer, plus `limit` live frames for topics
 * already caught up; past that the connection is overflowed and resumes later.
 * @module
 */
import type { ReplayTarget } from "./replay-target.ts";
import { compareSeq } from "./seq.ts";

/** Held frames written in one event-loop turn once the group is released. */
const RELEASE_SLICE = 64;

export interface ResumeGroupOptions {
  /** Live frames held for topics already caught up, at most (the replay buffer's size). */
  limit: number;
  /** An ephemeral frame of `topic` was dropped while the group held (counted as late). */
  droppedStale(topic: string): void;
  /** Whether this instance's tail has delivered `seq` on `topic` (or something after it). */
  tailPassed(topic: string, seq: string): boolean;
}

interface Held {
  topic: string;
  frame: string;
  seq: string;
  target: ReplayTarget;
}

export class ResumeGroup {
  readonly #opts: ResumeGroupOptions;
  /** Topics still replaying: nothing is written while one is. */
  readonly #waiting: Set<string>;
  /** The newest seq each topic's replay sent: the tail must pass the newest of them first. */
  readonly #newest = new Map<string, string>();
  /** Topics that left the group (unsubscribed, replay failed): their held frames are skipped. */
  readonly #gone = new Set<string>();
  #held: Held[] = [];
  /** Next held frame to write while releasing. */
  #next = 0;
  /** Frames held for topics that had caught up (live ones), against `limit`. */
  #live = 0;
  #state: "holding" | "releasing" | "open" = "holding";

  constructor(topics: Iterable<string>, opts: ResumeGroupOptions) {
    this.#waiting = new Set(topics);
    this.#opts = opts;
  }

  /** `topic`'s replay target, held by the group until all its topics caught up. */
  wrap(topic: string, target: ReplayTarget): ReplayTarget {
    return {
      send: (frame, seq, ephemeral) => this.#send(topic, target, frame, seq, ephemeral),
      notRecovered: () => target.notRecovered(),
      goLive: () => target.goLive(),
      overflowed: () => target.overflowed(),
      historySent: (newest) => this.#historySent(topic, newest),
      mayGoLive: () => {
        this.#maybeRelease(); // asked as the tail goes on: it may have passed the newest entry now
        return this.#state === "open";
      },
      get closed() {
        return target.closed;
      },
    };
  }

  /** `topic` left before it caught up (unsubscribed, its replay failed): the others need not wait. */
  forget(topic: string): void {
    this.#gone.add(topic);
    // Its frames are skipped: the tail need not pass them (nor feed its catch-up, now cancelled).
    const sent = this.#newest.delete(topic);
    if (this.#waiting.delete(topic) || sent) this.#maybeRelease();
  }

  #send(topic: string, target: ReplayTarget, frame: string, seq: string, ephemeral: boolean): boolean {
    if (this.#state === "open") return target.send(frame, seq, ephemeral);
    if (ephemeral) {
      this.#opts.droppedStale(topic);
      return true;
    }
    if (!this.#waiting.has(topic) && ++this.#live > this.#opts.limit) return false;
    this.#held.push({ topic, frame, seq, target });
    return true;
  }

  #historySent(topic: string, newest: string | undefined): void {
    if (newest !== undefined) this.#newest.set(topic, newest);
    if (this.#waiting.delete(topic)) this.#maybeRelease();
  }

  #maybeRelease(): void {
    if (this.#state !== "holding" || this.#waiting.size > 0) return;
    let newest: [string, string] | undefined;
    for (const [topic, seq] of this.#newest) if (!newest || compareSeq(seq, newest[1]) > 0) newest = [topic, seq];
    if (newest && !this.#opts.tailPassed(newest[0], newest[1])) return;
    this.#state = "releasing";
    this.#held.sort((a, b) => compareSeq(a.seq, b.seq)); // stable: equal seqs (derived topics) keep their order
    this.#release();
  }

  readonly #release = (): void => {
    const end = Math.min(this.#next + RELEASE_SLICE, this.#held.length);
    for (; this.#next < end; this.#next++) {
      const { topic, frame, seq, target } = this.#held[this.#next]!;
      if (this.#gone.has(topic)) continue;
      if (target.closed) return;
      if (!target.send(frame, seq, false)) return target.overflowed();
    }
    if (this.#next < this.#held.length) return void setImmediate(this.#release);
    this.#held = [];
    this.#state = "open";
  };
}
