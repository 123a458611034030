/**
 * The one subscribe-with-`since` path of every transport and endpoint (`/ws`, `/ws/broadcast`,
 * the timer sockets, `/events`): a connection's {@link Subscriptions} either goes live on a
 * topic at once or first replays the retained history after `since` through the hub, which
 * hands it over to live delivery with no gap and no duplicate.
 * @module
 */
import type { ReplayTarget } from "./catch-up.ts";
import { type Member, type MembershipListener, newMemberId } from "./membership.ts";
import { type ReplayBudget, ReplayRefusedError } from "./replay-limits.ts";
import type { ResumeGroup } from "./resume-group.ts";

/** What a connection offers the subscribe path, whatever its transport. */
export interface Subscriber {
  readonly closed: boolean;
  /** Writes one replayed frame of `topic`; `false` when it cannot be queued (the replay then overflows). */
  write(topic: string, frame: string, seq: string, ephemeral: boolean): boolean;
  /** Starts live delivery of `channel` (a topic, or an endpoint's raw channel). */
  live(channel: string): void;
  /** Stops live delivery of `channel`. */
  unlive(channel: string): void;
  /** Tells the client that `topic`'s history after its offset is gone (`recovered:false`). */
  notRecovered(topic: string): void;
  /** The connection could not keep up with a replay: close it so that it resumes later. */
  overflowed(): void;
  /** Reading `topic`'s history failed; the subscription has been dropped. */
  replayFailed(topic: string, error: unknown): void;
}

/** The part of the hub that replays. */
export interface Replayer {
  replay(topic: string, since: string | undefined, target: ReplayTarget): Promise<void>;
  cancelReplay(topic: string, target: ReplayTarget): void;
  /** Merges the replays of topics resumed from one offset; absent: each replays on its own. */
  resumeGroup?(topics: readonly string[]): ResumeGroup;
  /** Told of every topic a connection joins and leaves (presence). */
  readonly membership?: MembershipListener;
}

export interface SubscribeOptions {
  /** Offset to resume after; absent: live at once. */
  since?: string | undefined;
  /**
   * Encode hook: turns a replayed hub frame into what this subscription sends, `undefined` to
   * skip it (e.g. the relay broadcaster sends the bare message). Default: the frame as is.
   */
  encode?: (frame: string) => string | undefined;
  /** What to go live on once caught up (default: the topic itself). */
  channel?: string;
  /** Replaces the subscriber's `replayFailed` for this subscription. */
  onReplayFailed?: (error: unknown) => void;
  /** The merged resume this subscription's replay belongs to ({@link Subscriptions.addAll}). */
  group?: ResumeGroup | undefined;
  /** The replay was already taken from the allowance ({@link Subscriptions.reserveReplay}, or by `addAll` for a group). */
  reserved?: boolean;
}

interface Entry {
  channel: string;
  group: ResumeGroup | undefined;
  /** The replay in progress, until the subscription is live. */
  replay: ReplayTarget | undefined;
}

/** One connection's subscriptions, live or replaying. */
export class Subscriptions {
  #hub: Replayer;
  #sub: Subscriber;
  #topics = new Map<string, Entry>();
  /** Set by {@link clear}: the connection is gone, and nothing may be registered for it again. */
  #cleared = false;

  #budget: ReplayBudget | undefined;
  /** This connection, as the hub's membership listeners (presence) see it. */
  readonly member: Member;

  /**
   * @param budget this connection's replay allowance (`replay-limits.ts`); none: unbounded.
   * @param sub the connection's token `sub`, for presence.
   */
  constructor(hub: Replayer, subscriber: Subscriber, budget?: ReplayBudget, sub?: string) {
    this.#hub = hub;
    this.#sub = subscriber;
    this.#budget = budget;
    this.member = { id: newMemberId(), sub };
  }

  get size(): number {
    return this.#topics.size;
  }

  has(topic: string): boolean {
    return this.#topics.has(topic);
  }

  topics(): IterableIterator<string> {
    return this.#topics.keys();
  }

  /** Whether nothing may subscribe any more: the connection closed (e.g. at its token's expiry, before it subscribed) or was cleared. */
  get #ended(): boolean {
    return this.#cleared || this.#sub.closed;
  }

  /**
   * Subscribes to `topic` (a no-op when already subscribed, or once the connection has closed:
   * no cleanup would ever remove what it registered); returns whether it was added.
   */
  add(topic: string, opts: SubscribeOptions = {}): boolean {
    if (this.#ended || this.#topics.has(topic)) return false;
    return this.#start(topic, opts, true);
  }

  /**
   * Resumes `topic` again, after `opts.since`, on a connection already subscribed to it (an
   * in-band subscribe with `since` of a topic it has): its live delivery or replay stops and the
   * replay after `since` starts, in this turn, so that everything after `since` follows and
   * nothing before it is sent after; presence sees no leave. Only the channel is kept: `opts`
   * gives the rest (`encode`, `onReplayFailed` of the first subscribe are not kept). Returns
   * whether it restarted.
   */
  restart(topic: string, opts: SubscribeOptions & { since: string }): boolean {
    const entry = this.#topics.get(topic);
    if (this.#ended || !entry) return false;
    this.#stop(topic, entry);
    const started = this.#start(topic, { channel: entry.channel, ...opts }, false);
    if (!started) this.#hub.membership?.left(topic, this.member);
    return started;
  }

  #start(topic: string, opts: SubscribeOptions, join: boolean): boolean {
    const channel = opts.channel ?? topic;
    const entry: Entry = { channel, group: opts.group, replay: undefined };
    this.#topics.set(topic, entry);
    if (opts.since === undefined) {
      this.#sub.live(channel);
      if (join) this.#hub.membership?.joined(topic, this.member);
      return true;
    }
    const refused = opts.reserved ? undefined : this.reserveReplay();
    if (refused) {
      this.#topics.delete(topic);
      if (opts.onReplayFailed) opts.onReplayFailed(refused);
      else this.#sub.replayFailed(topic, refused);
      return false;
    }
    const own = this.#target(topic, entry, opts.encode);
    const target = opts.group ? opts.group.wrap(topic, own) : own;
    entry.replay = target;
    if (join) this.#hub.membership?.joined(topic, this.member);
    this.#hub.replay(topic, opts.since, target).catch((error: unknown) => {
      if (this.#topics.get(topic) !== entry) return;
      this.#topics.delete(topic);
      opts.group?.forget(topic);
      this.#hub.membership?.left(topic, this.member);
      if (opts.onReplayFailed) opts.onReplayFailed(error);
      else this.#sub.replayFailed(topic, error);
    });
    return true;
  }

  /**
   * Subscribes to several topics at once. Resumed from one offset, their replays are merged
   * (`resume-group.ts`), so that the client may later resume all of them from any seq it got.
   */
  addAll(topics: readonly string[], opts: SubscribeOptions = {}): void {
    if (this.#ended) return;
    const fresh = [...new Set(topics)].filter((topic) => !this.#topics.has(topic));
    const group = opts.since !== undefined && fresh.length > 1 ? this.#hub.resumeGroup?.(fresh) : undefined;
    // One replay of the allowance per topic, but at most its burst: one request, however many topics.
    const refused = group ? this.reserveReplay(fresh.length) : undefined;
    if (refused) return void fresh.forEach((topic) => this.#sub.replayFailed(topic, refused));
    for (const topic of fresh) this.add(topic, { ...opts, group, reserved: group !== undefined });
  }

  /**
   * Takes `replays` (default 1) from the allowance, as an `add` does unless told `reserved` (so that
   * a refusal can be answered before anything else); returns the refusal, if any.
   */
  reserveReplay(replays = 1): ReplayRefusedError | undefined {
    try {
      this.#budget?.take(replays);
      return undefined;
    } catch (error) {
      if (error instanceof ReplayRefusedError) return error;
      throw error;
    }
  }

  /** Unsubscribes from `topic`, cancelling its replay if one is in progress. */
  remove(topic: string): void {
    const entry = this.#topics.get(topic);
    if (!entry) return;
    this.#stop(topic, entry);
    this.#hub.membership?.left(topic, this.member);
  }

  #stop(topic: string, entry: Entry): void {
    this.#topics.delete(topic);
    entry.group?.forget(topic);
    if (entry.replay) this.#hub.cancelReplay(topic, entry.replay);
    else this.#sub.unlive(entry.channel);
  }

  /** Drops every subscription (the connection closed): replays cancelled, live ones stopped. */
  clear(): void {
    this.#cleared = true;
    for (const topic of [...this.#topics.keys()]) this.remove(topic);
  }

  #target(topic: string, entry: Entry, encode: SubscribeOptions["encode"]): ReplayTarget {
    const sub = this.#sub;
    return {
      send(frame, seq, ephemeral) {
        if (sub.closed) return false;
        const out = encode ? encode(frame) : frame;
        return out === undefined || sub.write(topic, out, seq, ephemeral);
      },
      notRecovered: () => sub.notRecovered(topic),
      goLive: () => {
        if (sub.closed || this.#topics.get(topic) !== entry) return;
        entry.replay = undefined;
        sub.live(entry.channel);
      },
      overflowed: () => sub.overflowed(),
      get closed() {
        return sub.closed;
      },
    };
  }
}
