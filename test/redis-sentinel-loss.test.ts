/**
 * Issue #21, a lossy failover: with `REDIS_MIN_REPLICAS=0` tickwire acknowledges what the
 * master has. Here the replica is frozen (SIGSTOP) and its replication link cut while ten chat
 * messages are acknowledged,
 * then the primary is killed (-9) and the replica, thawed, promoted without them. The instances
 * notice that the stream now ends before what they acknowledged and delivered, start a new epoch,
 * and reset their live subscribers; a client resuming from the old history is told
 * `recovered:false`, never silence; posting works again, in the new epoch.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { awaitReplicated, SentinelSet } from "../bench/support/redis-topology.ts";
import type { Tickwire } from "../src/main.ts";
import { startServer, uniquePrefix } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";

const NOT_RECOVERED = { op: "recovered", topic: "chat", recovered: false };
const post = (url: string, content: string) =>
  fetch(`${url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });

async function postOk(app: Tickwire, content: string): Promise<string> {
  const res = await post(app.url, content);
  expect(res.status).toBe(201);
  return ((await res.json()) as { seq: string }).seq;
}

/** Posts until one is accepted (the failover may still be under way). */
async function postWhenAccepted(app: Tickwire, content: string): Promise<string> {
  for (;;) {
    const res = await post(app.url, content);
    if (res.status === 201) return ((await res.json()) as { seq: string }).seq;
    expect(res.status).toBe(503);
    await res.body?.cancel();
    await Bun.sleep(50); // a client's retry pause after a 503, not a wait for a condition
  }
}

describe("a Sentinel failover that loses acknowledged entries (REDIS_MIN_REPLICAS=0)", () => {
  const set = new SentinelSet({ masterName: "tw", replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
  const apps: Tickwire[] = [];
  beforeAll(async () => {
    await set.start();
    const env = { REDIS_SENTINEL: set.envValue, STREAM_PREFIX: uniquePrefix("sentinel-loss") };
    apps.push(await startServer(env), await startServer(env));
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await set.dispose();
  });

  it("starts a new epoch: live subscribers are reset and resumes are told recovered:false", async () => {
    const [a, b] = apps as [Tickwire, Tickwire];
    const live = await sseClient(`${b.url}/events`);
    const kept: string[] = [];
    for (let i = 0; i < 5; i++) kept.push(await postOk(a, `kept-${i}`));
    await awaitReplicated(set.primaryPort);
    const replica = set.nodes.get(set.replicaPorts[0]!)!;
    // Frozen, and cut off: what the primary writes from now on never reaches it (a frozen
    // replica alone would still find the stream in its socket buffer when thawed).
    replica.proc!.kill("SIGSTOP");
    await set.cli(set.primaryPort, "CLIENT", "KILL", "TYPE", "replica");
    const lost: string[] = [];
    for (let i = 0; i < 10; i++) lost.push(await postOk(a, `lost-${i}`));
    await live.next((e) => e.id === lost.at(-1));
    const old = await set.killPrimary();
    replica.proc!.kill("SIGCONT");
    await set.awaitPromotion(old);

    const after = await postWhenAccepted(b, "after");
    // The live subscriber saw entries the new master lacks: it is reset.
    await live.next((e) => e.event === "overflow", 20_000);
    await live.ended;
    // Resuming from the lost history, or from before it, on either instance: recovered:false first.
    for (const [app, since] of [
      [a, lost.at(-1)!],
      [b, kept[0]!],
    ] as const) {
      const resumed = await sseClient(`${app.url}/events`, { "Last-Event-ID": since });
      const first = await resumed.next();
      expect(first.event).toBe("recovered");
      expect(first.json).toEqual(NOT_RECOVERED);
      resumed.close();
    }
    const history = (await fetch(`${a.url}/messages?since=${lost[0]}`).then((r) => r.json())) as { recovered: boolean };
    expect(history.recovered).toBe(false);
    // The new epoch's own offsets are recovered.
    const fresh = (await fetch(`${a.url}/messages?since=${after}`).then((r) => r.json())) as { recovered: boolean };
    expect(fresh.recovered).toBe(true);
  }, 90_000);
});
