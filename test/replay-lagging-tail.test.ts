/**
 * The hub's `replay()` over a log whose tail lags behind its reads, as the Redis tailer does:
 * history may hold entries the tail has not delivered yet, a client may bring a `since` the tail
 * has not reached (it saw the entry on another instance), and live entries arrive while history
 * is read. In every interleaving each entry after `since` reaches the target exactly once, in
 * order, and the target ends up live.
 */
import { describe, expect, it } from "bun:test";
import type { ReplayTarget } from "../src/core/catch-up.ts";
import { Hub } from "../src/core/hub.ts";
import { compareSeq, SeqGenerator } from "../src/core/seq.ts";
import { type HistoryRead, type LogEntry, StoredEntry, type TailListener, type TopicLog } from "../src/core/topic-log.ts";
import type { Transport } from "../src/core/transport.ts";
import { VirtualClock } from "../src/core/virtual-clock.ts";

/** A log whose appends are readable at once but reach the tail only when `deliver()` says so. */
class LaggingLog implements TopicLog {
  entries: LogEntry[] = [];
  #pending: LogEntry[] = [];
  #listeners = new Set<TailListener>();
  #seq = new SeqGenerator();
  #position: string | undefined;
  /** When set, `readAfter` takes its snapshot at once and answers when the gate opens. */
  gate: Promise<void> | undefined;

  constructor(private clock: VirtualClock) {}

  async append(topic: string, body: Record<string, unknown>): Promise<LogEntry> {
    this.clock.advance(1);
    const entry = new StoredEntry(topic, this.#seq.next(this.clock.now()), this.clock.now(), JSON.stringify(body), body);
    this.entries.push(entry);
    this.#pending.push(entry);
    return entry;
  }

  async readAfter(topic: string, since: string | undefined): Promise<HistoryRead> {
    const entries = this.entries.filter((e) => e.topic === topic && (since === undefined || compareSeq(e.seq, since) > 0));
    const tip = this.entries.at(-1)?.seq ?? "0-0";
    await this.gate;
    return { entries, recovered: true, tip };
  }

  /** Hands the next `n` appended entries to the tail listeners. */
  deliver(n = Infinity): void {
    while (n-- > 0 && this.#pending.length > 0) {
      const entry = this.#pending.shift()!;
      this.#position = entry.seq;
      for (const l of this.#listeners) l(entry);
    }
  }

  get lagging(): number {
    return this.#pending.length;
  }

  tail(listener: TailListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  lastDelivered(): string | undefined {
    return this.#position ?? "0-0";
  }

  healthy(): boolean {
    return true;
  }

  async stop(): Promise<void> {}
}

interface Recorder extends ReplayTarget {
  seqs: string[];
  live: boolean;
}

/** A transport with per-target subscriptions, so a frame delivered after `goLive` arrives. */
class Fanout implements Transport {
  subs = new Map<string, Set<Recorder>>();
  deliver(topic: string, data: string): number {
    const subs = this.subs.get(topic) ?? new Set();
    for (const r of subs) r.send(data, JSON.parse(data).seq, false);
    return subs.size;
  }
  receivers(topic: string): number {
    return this.subs.get(topic)?.size ?? 0;
  }
  reset(): number {
    return 0;
  }
}

function setup() {
  const clock = new VirtualClock();
  const log = new LaggingLog(clock);
  const hub = new Hub({ log, clock });
  const fanout = new Fanout();
  hub.addTransport(fanout);
  const target = (topic = "chat"): Recorder => {
    const r: Recorder = {
      seqs: [],
      live: false,
      closed: false,
      send(frame) {
        r.seqs.push(JSON.parse(frame).seq);
        return true;
      },
      notRecovered() {},
      goLive() {
        r.live = true;
        let set = fanout.subs.get(topic);
        if (!set) fanout.subs.set(topic, (set = new Set()));
        set.add(r);
      },
      overflowed() {
        throw new Error("overflowed");
      },
    };
    return r;
  };
  const after = (since: string | undefined) => log.entries.filter((e) => since === undefined || compareSeq(e.seq, since) > 0).map((e) => e.seq);
  return { clock, log, hub, target, after };
}

describe("replay over a lagging tail", () => {
  it("waits for the tail to pass the newest history entry before going live", async () => {
    const { log, hub, target, after } = setup();
    for (let i = 0; i < 10; i++) await log.append("chat", { i });
    log.deliver(3);
    const since = log.entries[1]!.seq;
    const t = target();
    await hub.replay("chat", since, t);
    expect(t.live).toBe(false);
    log.deliver();
    expect(t.live).toBe(true);
    for (let i = 0; i < 5; i++) await log.append("chat", { i });
    log.deliver();
    expect(t.seqs).toEqual(after(since));
  });

  it("does not repeat entries up to a since the tail has not reached yet", async () => {
    const { log, hub, target, after } = setup();
    for (let i = 0; i < 10; i++) await log.append("chat", { i });
    log.deliver(2);
    // The client saw the newest entry on another instance; this one's tail is 8 entries behind.
    const since = log.entries.at(-1)!.seq;
    const t = target();
    await hub.replay("chat", since, t);
    log.deliver();
    expect(t.live).toBe(true);
    await log.append("chat", { late: true });
    log.deliver();
    expect(t.seqs).toEqual(after(since));
    expect(t.seqs.length).toBe(1);
  });

  it("holds entries delivered while history is read, then sends each once", async () => {
    const { log, hub, target, after } = setup();
    for (let i = 0; i < 6; i++) await log.append("chat", { i });
    log.deliver(1);
    let open!: () => void;
    log.gate = new Promise((r) => (open = r));
    const since = log.entries[0]!.seq;
    const t = target();
    const replaying = hub.replay("chat", since, t);
    for (let i = 0; i < 4; i++) await log.append("chat", { during: i });
    log.deliver(7);
    open();
    await replaying;
    log.deliver();
    expect(t.live).toBe(true);
    expect(t.seqs).toEqual(after(since));
  });

  it("delivers every entry after since exactly once in random interleavings", async () => {
    let state = 42;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    for (let round = 0; round < 300; round++) {
      const { log, hub, target, after } = setup();
      for (let i = 0, n = rand(20); i < n; i++) await log.append("chat", { i });
      log.deliver(rand(log.lagging + 1));
      const since = log.entries.length > 0 && rand(4) > 0 ? log.entries[rand(log.entries.length)]!.seq : undefined;
      let open!: () => void;
      log.gate = new Promise((r) => (open = r));
      const t = target();
      const replaying = hub.replay("chat", since, t);
      for (let step = 0, steps = rand(30); step < steps; step++) {
        if (rand(2)) await log.append("chat", { step });
        else log.deliver(rand(4));
        if (rand(10) === 0) open();
      }
      open();
      await replaying;
      for (let step = 0, steps = rand(20); step < steps; step++) {
        if (rand(2)) await log.append("chat", { step });
        else log.deliver(rand(4));
      }
      log.deliver();
      // Once the tail has caught up the target is live, with no new entry needed to get there.
      const liveWhenCaughtUp = t.live;
      await log.append("chat", { last: true });
      log.deliver();
      expect({ round, seqs: t.seqs, liveWhenCaughtUp }).toEqual({ round, seqs: after(since), liveWhenCaughtUp: true });
    }
  });
});
