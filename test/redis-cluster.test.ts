/**
 * Issue #21, Cluster: three masters (real redis-server processes in cluster mode on their own
 * ports), two tickwire instances on `REDIS_CLUSTER` sharing a MySQL database. Chat, relay and
 * timers work end to end and across instances; the topic logs' keys share one hash tag (one
 * slot) while hot state and presence have their own. A live resharding of the topic logs' slot
 * to another master, under continuous chat posts, keeps the guarantees: every message that got
 * a 201 reaches both instances' subscribers and a `Last-Event-ID` resume, in order, none twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { RedisCluster } from "../bench/support/redis-topology.ts";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { expectEveryAcceptedOnce, postContinuously } from "./support/chat-through-fault.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, uniquePrefix } from "./timers-support.ts";

const post = (url: string, content: string) =>
  fetch(`${url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
const isAck = (f: any) => f?.op === "ack";

describe("Redis Cluster: three masters, two instances", () => {
  const cluster = new RedisCluster({ masters: 3 });
  const prefix = uniquePrefix("rcluster");
  const apps: Tickwire[] = [];
  let database: Awaited<ReturnType<typeof ownDatabase>>;
  beforeAll(async () => {
    await cluster.start();
    database = await ownDatabase("rcluster");
    const env = { REDIS_CLUSTER: cluster.seeds, DATABASE_URL: database.url, STREAM_PREFIX: prefix, TICK_MS: "100" };
    apps.push(await startServer(env), await startServer(env));
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await database?.drop();
    await cluster.dispose();
  });

  it("runs chat, relay and timers across instances, with the topic logs in one slot", async () => {
    const [a, b] = apps as [Tickwire, Tickwire];
    // Chat: posted on both, delivered to an SSE client of the other in one order.
    const sse = await sseClient(`${b.url}/events`);
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i % 2 ? a.url : b.url, `c${i}`).then((r) => r.json() as any)));
    const seqs = replies.map((r) => r.seq as string);
    expect((await sse.collect(40, (e) => typeof e.json?.seq === "string")).map((e) => e.json.seq)).toEqual([...seqs].sort(compareSeq));
    sse.close();

    // Relay: a manager on A, a broadcaster on B.
    const broadcaster = wsClient(wsUrl(b, "/ws/broadcast"));
    const manager = wsClient(wsUrl(a, "/ws/manager"));
    await Promise.all([broadcaster.opened, manager.opened]);
    for (let i = 0; i < 30; i++) manager.send(`r-${i}`);
    await manager.collect(30, isAck);
    expect(await broadcaster.collect(30, (f: any) => typeof f === "string" && f.startsWith("r-"))).toEqual(Array.from({ length: 30 }, (_, i) => `r-${i}`));

    // Timers: created on A, seen and ticked on B, paused on B, seen on A.
    const session = uniquePrefix("s").replace(/[^A-Za-z0-9_-]/g, "");
    const customer = wsClient(wsUrl(b, `/ws/customer/${session}`));
    const gm = wsClient(wsUrl(a, `/ws/gamemaster/${session}`));
    await Promise.all([customer.opened, gm.opened]);
    const created = await api(a).create(session, 600);
    expect(created.status).toBe(201);
    const id = created.body.id;
    await customer.next((f: any) => f.type === "TIMER_CREATE" && f.payload.id === id);
    await customer.next((f: any) => f.type === "TIMER_UPDATE" && f.payload.id === id);
    expect((await api(b).pause(id)).body.status).toBe("paused");
    await gm.next((f: any) => f.type === "TIMER_PAUSE" && f.payload.id === id);
    // A adopts the change from the event asynchronously (it reads hot state on another shard).
    await until(async () => (await api(a).get(id)).body.status === "paused", { message: "A to serve the paused timer" });
    for (const c of [broadcaster, manager, customer, gm]) c.close();

    // Where the keys are: every topic log key on the owner of `{prefix}`'s slot.
    const logSlot = await cluster.slotOf(`{${prefix}}`);
    const owner = await cluster.ownerOf(logSlot);
    expect(await cluster.cli(owner, "TYPE", `{${prefix}}:chat`)).toBe("stream");
    expect(await cluster.cli(owner, "EXISTS", `{${prefix}}:epoch:chat`)).toBe("1");
    expect(await cluster.slotOf(`{${prefix}:hot}`)).not.toBe(logSlot);
  }, 60_000);

  it("keeps every 201 through a live resharding of the topic logs' slot", async () => {
    const [a, b] = apps as [Tickwire, Tickwire];
    const watchers = [await sseClient(`${a.url}/events`), await sseClient(`${b.url}/events`)];
    const load = postContinuously([b.url, a.url]);
    await load.acceptedAtLeast(100, "100 posts before the move", 20_000);
    const slot = await cluster.slotOf(`{${prefix}}`);
    const from = await cluster.ownerOf(slot);
    const to = cluster.ports.find((p) => p !== from)!;
    const started = performance.now();
    await cluster.moveSlot(slot, to);
    const movedMs = Math.round(performance.now() - started);
    await load.acceptedAtLeast(load.accepted.length + 100, "100 posts after the move");
    await load.stop();
    expect(await cluster.ownerOf(slot)).toBe(to);
    console.log(JSON.stringify({ clusterReshard: { movedMs, refused: load.refused, accepted: load.accepted.length } }));
    await expectEveryAcceptedOnce(load.accepted, watchers, b.url);
  }, 120_000);
});
