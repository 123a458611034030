/**
 * Issue #21, acknowledged means replicated: with `REDIS_MIN_REPLICAS=1` against a primary with
 * one replica (real redis-server processes on their own ports), a post is answered 201 only
 * after Redis `WAIT` saw the replica hold it; concurrent posts share `WAIT`s (group commit);
 * with the replica frozen, posts answer 503 with `Retry-After` after `REDIS_WAIT_TIMEOUT_MS`,
 * and 201 again once it is back. Asking for more replicas than exist answers 503 too.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { awaitReplicated, RedisNode } from "../bench/support/redis-topology.ts";
import type { Tickwire } from "../src/main.ts";
import { startServer, uniquePrefix } from "./support/server.ts";

const post = (url: string, content: string) =>
  fetch(`${url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });

/** `calls` of `WAIT` in the primary's INFO commandstats. */
async function waitCalls(node: RedisNode): Promise<number> {
  const m = /cmdstat_wait:calls=(\d+)/.exec(await node.cli("INFO", "commandstats"));
  return m ? Number(m[1]) : 0;
}

describe("REDIS_MIN_REPLICAS", () => {
  const primary = new RedisNode();
  const replica = new RedisNode();
  const apps: Tickwire[] = [];
  beforeAll(async () => {
    await primary.start();
    await replica.start(["--replicaof", "127.0.0.1", String(primary.port)]);
    await awaitReplicated(primary.port);
  }, 30_000);
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await Promise.all([primary.dispose(), replica.dispose()]);
  });
  let prefix = "";
  const start = async (env: Record<string, string>) => {
    prefix = uniquePrefix("minrep");
    const app = await startServer({ REDIS_URL: `redis://${primary.address}`, STREAM_PREFIX: prefix, ...env });
    apps.push(app);
    return app;
  };

  it("answers 201 once the replica holds the message, one WAIT for many concurrent posts", async () => {
    const app = await start({ REDIS_MIN_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "2000" });
    const waitsBefore = await waitCalls(primary);
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => post(app.url, `r${i}`)));
    expect(replies.map((r) => r.status)).toEqual(Array(200).fill(201));
    const seqs = await Promise.all(replies.map(async (r) => ((await r.json()) as { seq: string }).seq));
    const waits = (await waitCalls(primary)) - waitsBefore;
    expect(waits).toBeGreaterThan(0);
    expect(waits).toBeLessThan(100);
    // Every acknowledged entry is on the replica, read there directly.
    const onReplica = await replica.cli("XRANGE", `${prefix}:chat`, seqs.slice().sort()[0]!, "+");
    for (const seq of seqs) expect(onReplica).toContain(seq);
    console.log(JSON.stringify({ minReplicas: { posts: 200, waits, lastSeq: seqs.at(-1) } }));
  });

  it("answers 503 with Retry-After while the replica cannot confirm, and 201 again once it is back", async () => {
    const app = await start({ REDIS_MIN_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "200" });
    expect((await post(app.url, "before")).status).toBe(201);
    replica.proc!.kill("SIGSTOP");
    try {
      const started = performance.now();
      const res = await post(app.url, "frozen");
      const tookMs = performance.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBeTruthy();
      expect(((await res.json()) as { error: string }).error).toBeDefined();
      expect(tookMs).toBeGreaterThanOrEqual(150);
    } finally {
      replica.proc!.kill("SIGCONT");
    }
    await awaitReplicated(primary.port);
    expect((await post(app.url, "after")).status).toBe(201);
  });

  it("answers 503 when it asks for more replicas than there are", async () => {
    const app = await start({ REDIS_MIN_REPLICAS: "2", REDIS_WAIT_TIMEOUT_MS: "100" });
    const res = await post(app.url, "two");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBeTruthy();
  });
});
