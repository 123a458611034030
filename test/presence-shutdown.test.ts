/**
 * Presence on a graceful stop (Redis mode): an instance that shuts down (`app.stop()`, as on
 * SIGTERM) removes its members from Redis and announces their leave before it closes its
 * connections, so the rest of the cluster sees them go at once, not after PRESENCE_TTL_MS
 * (60 s here, far longer than any wait below: only the stop can explain what is seen).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { type ChildServer, MYSQL_URL, REDIS_URL, spawnServer, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const countOf = async (app: { url: string }, topic: string) => {
  const res = await fetch(`${app.url}/presence/${encodeURIComponent(topic)}`);
  return ((await res.json()) as { count: number }).count;
};

/** A `/ws` client subscribed to `topic` (awaits the ack). */
async function subscriber(url: string, topic: string): Promise<WsTestClient> {
  const c = wsClient(url);
  await c.opened;
  c.send({ op: "subscribe", topic, ref: "s" });
  await c.next((f) => f.op === "ack" && f.ref === "s");
  return c;
}

const isPresence = (event: string, subject: string) => (f: any) => f?.topic === `presence:${subject}` && f.event === event;

describe("presence on a graceful stop (two instances on Redis)", () => {
  const env = { DATABASE_URL: MYSQL_URL, REDIS_URL, STREAM_PREFIX: uniquePrefix("presence-stop"), PRESENCE_TTL_MS: "60000", PRESENCE_EVENTS: "session:*" };
  let b: ChildServer;
  const open: WsTestClient[] = [];
  beforeAll(async () => {
    b = await spawnServer(env);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    b?.proc.kill(9);
    await b?.exited;
  });

  it("app.stop() removes the instance's members at once and the other instance hears their leave", async () => {
    const a: Tickwire = await startServer(env);
    let stopped = false;
    try {
      const watcher = await subscriber(wsUrl(b, "/ws?topics="), "presence:session:s1");
      const onA = [await subscriber(wsUrl(a, "/ws?topics="), "session:s1"), await subscriber(wsUrl(a, "/ws?topics="), "session:s1")];
      open.push(watcher, ...onA);
      await until(async () => (await countOf(b, "session:s1")) === 2, { message: "B to count A's two subscribers" });
      const joins = await watcher.collect(2, isPresence("join", "session:s1"));

      await a.stop();
      stopped = true;
      await until(async () => (await countOf(b, "session:s1")) === 0, { message: "A's members to be gone from B's answer", timeoutMs: 3000 });
      const leaves = await watcher.collect(2, isPresence("leave", "session:s1"), 3000);
      expect(new Set(leaves.map((l: any) => l.client))).toEqual(new Set(joins.map((j: any) => j.client)));
    } finally {
      if (!stopped) await a.stop();
    }
  });

  it("SIGTERM does the same for a child process: its members go and their leave frames arrive", async () => {
    const a = await spawnServer(env);
    try {
      const watcher = await subscriber(wsUrl(b, "/ws?topics="), "presence:session:s2");
      const onA = [await subscriber(wsUrl(a, "/ws?topics="), "session:s2"), await subscriber(wsUrl(a, "/ws?topics="), "session:s2")];
      open.push(watcher, ...onA);
      await until(async () => (await countOf(b, "session:s2")) === 2, { message: "B to count A's two subscribers" });
      const joins = await watcher.collect(2, isPresence("join", "session:s2"));

      a.proc.kill("SIGTERM");
      expect(await a.exited).toBe(0);
      await until(async () => (await countOf(b, "session:s2")) === 0, { message: "A's members to be gone from B's answer", timeoutMs: 3000 });
      const leaves = await watcher.collect(2, isPresence("leave", "session:s2"), 3000);
      expect(new Set(leaves.map((l: any) => l.client))).toEqual(new Set(joins.map((j: any) => j.client)));
    } finally {
      a.proc.kill(9);
    }
  });
});
