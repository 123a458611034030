/**
 * Issue #21, Sentinel: a primary, a replica and three sentinels (real redis-server processes on
 * their own ports), two tickwire instances on `REDIS_SENTINEL` with `REDIS_MIN_REPLICAS=1`, chat
 * posted continuously on both. `kill -9` of the primary: posts during the failover get 503 with
 * `Retry-After`; after the promotion every message that got a 201 reaches the connected
 * subscribers of both instances and a client resuming with `Last-Event-ID`, in order, none twice.
 * Measured (printed): time from the kill to the first 201, and the posts refused meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SentinelSet } from "../bench/support/redis-topology.ts";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { type SseEvent, sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const post = (url: string, content: string) =>
  fetch(`${url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });

/**
 * With one replica, the promoted master has none left, so `WAIT 1` fails (503) until the killed
 * primary is restarted and rejoins as its replica, as an orchestrator would restart it; with two,
 * one is left and appends are acknowledged as soon as the promotion is done.
 */
const CASES = [
  { replicas: 1, restartOld: true },
  { replicas: 2, restartOld: false },
];

describe.each(CASES)("Redis Sentinel failover with REDIS_MIN_REPLICAS=1, primary + $replicas replica(s)", ({ replicas, restartOld }) => {
  const set = new SentinelSet({ masterName: "tw", replicas, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
  const apps: Tickwire[] = [];
  beforeAll(async () => {
    await set.start();
    const env = { REDIS_SENTINEL: set.envValue, REDIS_MIN_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "500", STREAM_PREFIX: uniquePrefix("sentinel") };
    apps.push(await startServer(env), await startServer(env));
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await set.dispose();
  });

  it("stores one publisher's pipelined messages in the order it sent them", async () => {
    const [a, b] = apps as [Tickwire, Tickwire];
    const broadcaster = wsClient(wsUrl(b, "/ws/broadcast"));
    const manager = wsClient(wsUrl(a, "/ws/manager"));
    await Promise.all([broadcaster.opened, manager.opened]);
    const texts = Array.from({ length: 500 }, (_, i) => `o-${i}`);
    // Paced, one every millisecond or so, as a real publisher sends (a burst kept the reordering away).
    for (const t of texts) {
      manager.send(t);
      await Bun.sleep(1);
    }
    const acks = await manager.collect(500, (f: any) => f?.op === "ack");
    const seqs = acks.map((f: any) => f.seq as string);
    expect(seqs).toEqual([...seqs].sort(compareSeq));
    expect(await broadcaster.collect(500, (f: any) => typeof f === "string" && f.startsWith("o-"))).toEqual(texts);
    broadcaster.close();
    manager.close();
  });

  it("delivers every message that got a 201, in order and once, through a kill -9 of the primary", async () => {
    const [a, b] = apps as [Tickwire, Tickwire];
    const watchers = [await sseClient(`${a.url}/events`), await sseClient(`${b.url}/events`)];
    const accepted: string[] = [];
    const acceptedAt: number[] = [];
    let refused = 0;
    let refusedWithoutRetryAfter = 0;
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const res = await post(i % 2 ? a.url : b.url, `w${w}-${i}`);
        if (res.status === 201) {
          accepted.push(((await res.json()) as { seq: string }).seq);
          acceptedAt.push(performance.now());
        } else {
          expect(res.status).toBe(503);
          await res.body?.cancel();
          refused++;
          if (!res.headers.get("retry-after")) refusedWithoutRetryAfter++;
        }
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => worker(w));
    await until(() => accepted.length >= 100, { message: "100 posts accepted before the kill", timeoutMs: 20_000 });
    const old = await set.killPrimary();
    const killedAt = performance.now();
    const before = accepted.length;
    const promoted = await set.awaitPromotion(old);
    expect(promoted).not.toBe(old);
    // Back with nothing (no persistence): the sentinels make it a replica of the new master.
    if (restartOld) await set.nodes.get(old)!.start();
    await until(() => accepted.length >= before + 100, { message: "100 posts accepted after the promotion", timeoutMs: 30_000 });
    running = false;
    await Promise.all(workers);
    const firstAfter = acceptedAt.slice(before).find((t) => t > killedAt);
    const recoverMs = Math.round((firstAfter ?? Number.NaN) - killedAt);
    console.log(
      JSON.stringify({
        sentinelFailover: { replicas, restartOld, recoverMs, refusedDuringFailover: refused, acceptedBefore: before, acceptedTotal: accepted.length },
      }),
    );
    expect(refused).toBeGreaterThan(0);
    expect(refusedWithoutRetryAfter).toBe(0);

    const inLogOrder = [...accepted].sort(compareSeq);
    const acceptedSet = new Set(accepted);
    const chat = (e: SseEvent) => typeof e.json?.seq === "string";
    const check = (events: SseEvent[]) => {
      const seqs = events.filter(chat).map((e) => e.json.seq as string);
      expect(new Set(seqs).size).toBe(seqs.length); // none twice (a refused post may appear once)
      return seqs.filter((s) => acceptedSet.has(s));
    };
    for (const watcher of watchers) {
      await until(() => check(watcher.events).length === accepted.length, { message: "a watcher to get every accepted message", timeoutMs: 20_000 });
      expect(check(watcher.events)).toEqual(inLogOrder);
      expect(watcher.events.some((e) => e.event === "overflow" || e.event === "recovered")).toBe(false);
      watcher.close();
    }
    // A client that saw the 50th accepted message resumes from it on the other instance.
    const from = inLogOrder[49]!;
    const fromEvent = watchers[0]!.events.find((e) => e.json?.seq === from)!;
    const resumed = await sseClient(`${b.url}/events`, { "Last-Event-ID": fromEvent.id ?? from });
    const rest = inLogOrder.slice(50);
    await until(() => check(resumed.events).length >= rest.length, { message: "the resumed client to get the rest", timeoutMs: 20_000 });
    expect(check(resumed.events)).toEqual(rest);
    resumed.close();
  }, 120_000);
});
