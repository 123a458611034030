import { describe, expect, it } from "bun:test";
import type { ReplayTarget } from "./catch-up.ts";
import { Membership } from "./membership.ts";
import { type Subscriber, Subscriptions } from "./subscriptions.ts";

const subscriber = (): Subscriber => ({
  closed: false,
  write: () => true,
  live() {},
  unlive() {},
  notRecovered() {},
  overflowed() {},
  replayFailed() {},
});

/** A hub with a membership whose replays fail when the test says so. */
function hub() {
  const membership = new Membership();
  const log: string[] = [];
  membership.listen({ joined: (t, m) => void log.push(`join ${t} ${m.sub ?? "-"}`), left: (t, m) => void log.push(`leave ${t} ${m.sub ?? "-"}`) });
  const failures: ((e: unknown) => void)[] = [];
  return {
    log,
    failures,
    membership,
    replay: (_t: string, _s: string | undefined, _target: ReplayTarget) => new Promise<void>((_resolve, reject) => failures.push(reject)),
    cancelReplay() {},
  };
}

describe("Membership through Subscriptions", () => {
  it("reports each topic a connection joins and leaves once, live or replaying, and everything at clear()", () => {
    const h = hub();
    const subs = new Subscriptions(h, subscriber(), undefined, "alice");
    subs.add("chat");
    subs.add("chat");
    subs.add("relay", { since: "1-1" });
    subs.remove("chat");
    subs.add("timers");
    subs.clear();
    expect(h.log).toEqual(["join chat alice", "join relay alice", "leave chat alice", "join timers alice", "leave relay alice", "leave timers alice"]);
  });

  it("reports a leave when a replay fails and drops the subscription", async () => {
    const h = hub();
    const subs = new Subscriptions(h, subscriber());
    subs.add("chat", { since: "1-1" });
    h.failures[0]!(new Error("redis down"));
    await Promise.resolve();
    await Promise.resolve();
    expect(h.log).toEqual(["join chat -", "leave chat -"]);
    expect(subs.has("chat")).toBe(false);
  });

  it("gives every connection its own member id", () => {
    const a = new Subscriptions(hub(), subscriber());
    const b = new Subscriptions(hub(), subscriber());
    expect(a.member.id).not.toBe(b.member.id);
  });
});
