import { describe, expect, it } from "bun:test";
import type { ReplayTarget } from "./catch-up.ts";
import { type Subscriber, Subscriptions } from "./subscriptions.ts";

/** A hub whose replays the test finishes by hand. */
function fakeHub() {
  const replays = new Map<string, { since: string | undefined; target: ReplayTarget; fail(e: unknown): void }>();
  const cancelled: string[] = [];
  return {
    replays,
    cancelled,
    replay(topic: string, since: string | undefined, target: ReplayTarget) {
      return new Promise<void>((_resolve, reject) => replays.set(topic, { since, target, fail: reject }));
    },
    cancelReplay(topic: string) {
      cancelled.push(topic);
    },
  };
}

function recordingSubscriber(): Subscriber & { log: string[]; closed: boolean } {
  const log: string[] = [];
  return {
    log,
    closed: false,
    write: (topic, frame) => (log.push(`write ${topic} ${frame}`), true),
    live: (c) => void log.push(`live ${c}`),
    unlive: (c) => void log.push(`unlive ${c}`),
    notRecovered: (t) => void log.push(`notRecovered ${t}`),
    overflowed: () => void log.push("overflowed"),
    replayFailed: (t) => void log.push(`failed ${t}`),
  };
}

describe("Subscriptions", () => {
  it("goes live at once without since, and only once per topic", () => {
    const sub = recordingSubscriber();
    const subs = new Subscriptions(fakeHub(), sub);
    expect(subs.add("chat")).toBe(true);
    expect(subs.add("chat")).toBe(false);
    expect(sub.log).toEqual(["live chat"]);
    subs.remove("chat");
    expect(sub.log).toEqual(["live chat", "unlive chat"]);
    expect(subs.size).toBe(0);
  });

  it("replays through the encode hook, then goes live on the given channel", () => {
    const hub = fakeHub();
    const sub = recordingSubscriber();
    const subs = new Subscriptions(hub, sub);
    subs.add("relay", { since: "1-1", channel: "raw", encode: (f) => (f === "skip" ? undefined : f.toUpperCase()) });
    const { since, target } = hub.replays.get("relay")!;
    expect(since).toBe("1-1");
    expect(target.send("skip", "2-1", false)).toBe(true);
    expect(target.send("hi", "3-1", false)).toBe(true);
    target.notRecovered();
    target.goLive();
    expect(sub.log).toEqual(["write relay HI", "notRecovered relay", "live raw"]);
  });

  it("cancels a replay in progress when unsubscribed, and never goes live for it", () => {
    const hub = fakeHub();
    const sub = recordingSubscriber();
    const subs = new Subscriptions(hub, sub);
    subs.add("chat", { since: "1-1" });
    const { target } = hub.replays.get("chat")!;
    subs.remove("chat");
    target.goLive();
    expect(hub.cancelled).toEqual(["chat"]);
    expect(sub.log).toEqual([]);
  });

  it("drops a subscription whose history could not be read and tells the subscriber", async () => {
    const hub = fakeHub();
    const sub = recordingSubscriber();
    const subs = new Subscriptions(hub, sub);
    subs.add("chat", { since: "1-1" });
    hub.replays.get("chat")!.fail(new Error("redis down"));
    await Promise.resolve();
    await Promise.resolve();
    expect(sub.log).toEqual(["failed chat"]);
    expect(subs.has("chat")).toBe(false);
  });

  it("clears everything when the connection closes: replays cancelled, live topics stopped", () => {
    const hub = fakeHub();
    const sub = recordingSubscriber();
    const subs = new Subscriptions(hub, sub);
    subs.add("cron");
    subs.add("chat", { since: "1-1" });
    subs.clear();
    expect(hub.cancelled).toEqual(["chat"]);
    expect(sub.log).toEqual(["live cron", "unlive cron"]);
    expect([...subs.topics()]).toEqual([]);
  });

  it("restarts a topic it is on from a new since: live delivery stopped, a replay started, presence told nothing", () => {
    const hub = fakeHub();
    const membership: string[] = [];
    const sub = recordingSubscriber();
    const subs = new Subscriptions(
      { ...hub, membership: { joined: (t) => void membership.push(`joined ${t}`), left: (t) => void membership.push(`left ${t}`) } },
      sub,
    );
    expect(subs.restart("chat", { since: "1-1" })).toBe(false); // not on it: nothing to restart
    subs.add("chat");
    expect(subs.restart("chat", { since: "5-1" })).toBe(true);
    expect(hub.replays.get("chat")!.since).toBe("5-1");
    expect(sub.log).toEqual(["live chat", "unlive chat"]);
    // Restarted again while replaying: the first replay is cancelled and never goes live.
    const first = hub.replays.get("chat")!.target;
    expect(subs.restart("chat", { since: "3-1" })).toBe(true);
    first.goLive();
    expect(hub.cancelled).toEqual(["chat"]);
    hub.replays.get("chat")!.target.goLive();
    expect(sub.log).toEqual(["live chat", "unlive chat", "live chat"]);
    expect(membership).toEqual(["joined chat"]);
    subs.remove("chat");
    expect(membership).toEqual(["joined chat", "left chat"]);
  });
});
