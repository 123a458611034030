/**
 * Issue #20, presence: who is subscribed to a topic, over every transport and endpoint.
 * - embedded (one instance): `GET /presence/{topic}` and the in-band op count WebSocket
 *   (`/ws`, `/ws/customer/:id`) and SSE subscribers exactly; join/leave frames arrive on
 *   `presence:<topic>`; the list is capped (PRESENCE_LIST_MAX) and says so;
 * - Redis, two instances sharing a STREAM_PREFIX (one a child process): both answer the same
 *   cluster-wide count; join/leave frames cross instances; after `kill -9` of one, its members
 *   are gone within PRESENCE_TTL_MS and their leave frames arrive;
 * - the index of topics with members (`<prefix>:presence-topics`) drops a topic when its last
 *   member leaves, not a TTL later, so topic churn does not grow it; one sweep removes every
 *   orphaned topic of dead instances, however many (not one batch of them a round);
 * - a Redis restarted without persistence is filled again by the instances' next refresh;
 * - permissions: subscribe on the topic is needed (401 / 403 / error frame), and is enough for
 *   `presence:<topic>`.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mintToken } from "../src/auth/tokens.ts";
import { RedisPresence } from "../src/features/presence/redis-presence.ts";
import { connectRedis } from "../src/infra/redis/client.ts";
import { silentLogger } from "../src/log.ts";
import type { Tickwire } from "../src/main.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { type ChildServer, MYSQL_URL, REDIS_URL, spawnServer, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const presenceOf = async (app: { url: string }, topic: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${app.url}/presence/${encodeURIComponent(topic)}`, { headers });
  return { status: res.status, body: (await res.json()) as any };
};
const countOf = async (app: { url: string }, topic: string) => (await presenceOf(app, topic)).body.count as number;

async function opened(url: string): Promise<WsTestClient> {
  const c = wsClient(url);
  await c.opened;
  return c;
}

/** A `/ws` client subscribed to `topic` (awaits the ack). */
async function subscriber(url: string, topic: string): Promise<WsTestClient> {
  const c = await opened(url);
  c.send({ op: "subscribe", topic, ref: "s" });
  await c.next((f) => f.op === "ack" && f.ref === "s");
  return c;
}

const isPresence = (event: string) => (f: any) => f?.topic?.startsWith("presence:") && f.event === event;

describe("presence (embedded)", () => {
  let app: Tickwire;
  const open: { close(): void }[] = [];
  beforeAll(async () => {
    app = await startServer({ PRESENCE_EVENTS: "session:*,chat", PRESENCE_LIST_MAX: "2" });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await app?.stop();
  });

  it("counts WebSocket and SSE subscribers of a topic exactly, joins and leaves included", async () => {
    expect(await presenceOf(app, "session:p1")).toEqual({ status: 200, body: { topic: "session:p1", count: 0, members: [], truncated: false } });
    const watcher = await subscriber(wsUrl(app, "/ws?topics="), "presence:session:p1");
    open.push(watcher);
    const customer = await opened(wsUrl(app, "/ws/customer/p1"));
    const unified = await subscriber(wsUrl(app, "/ws?topics="), "session:p1");
    const sse = await sseClient(`${app.url}/events?topics=session:p1`);
    open.push(customer, unified, sse);
    await until(async () => (await countOf(app, "session:p1")) === 3, { message: "three subscribers" });
    const joins = await watcher.collect(3, isPresence("join"));
    expect(joins[0]).toEqual({
      topic: "presence:session:p1",
      seq: expect.stringMatching(/^\d+-\d+$/),
      ts: expect.any(Number),
      epoch: expect.any(String),
      event: "join",
      subject: "session:p1",
      client: expect.stringMatching(/^[0-9a-f]{8}-\d+$/),
    });
    // At most PRESENCE_LIST_MAX (2) listed; the count stays exact.
    const { body } = await presenceOf(app, "session:p1");
    expect(body).toMatchObject({ count: 3, truncated: true });
    expect(body.members).toHaveLength(2);
    expect(new Set(joins.map((j: any) => j.client)).size).toBe(3);

    // The in-band op answers the same.
    unified.send({ op: "presence", topic: "session:p1", ref: "p" });
    const ack = await unified.next((f) => f.ref === "p");
    expect(ack).toMatchObject({ op: "ack", topic: "session:p1", presence: { topic: "session:p1", count: 3, truncated: true } });

    customer.close();
    unified.send({ op: "unsubscribe", topic: "session:p1" });
    await until(async () => (await countOf(app, "session:p1")) === 1, { message: "one subscriber left" });
    sse.close();
    await until(async () => (await countOf(app, "session:p1")) === 0, { message: "nobody left" });
    const leaves = await watcher.collect(3, isPresence("leave"));
    expect(new Set(leaves.map((l: any) => l.client))).toEqual(new Set(joins.map((j: any) => j.client)));
  });

  it("announces only topics matching PRESENCE_EVENTS; presence counts every topic", async () => {
    const watcher = await subscriber(wsUrl(app, "/ws?topics="), "presence:relay");
    const chatWatcher = await subscriber(wsUrl(app, "/ws?topics="), "presence:chat");
    open.push(watcher, chatWatcher);
    open.push(await subscriber(wsUrl(app, "/ws?topics="), "relay"), await subscriber(wsUrl(app, "/ws?topics="), "chat"));
    await until(async () => (await countOf(app, "relay")) === 1, { message: "the relay subscriber" });
    await chatWatcher.next(isPresence("join"));
    expect(watcher.frames.filter(isPresence("join"))).toEqual([]);
  });

  it("counts a subscribe or unsubscribe of an announced topic as a publish: flapping cannot flood the presence log", async () => {
    const limited = await startServer({ PRESENCE_EVENTS: "session:*", WS_PUBLISHES_PER_SECOND: "5" });
    try {
      const watcher = await subscriber(wsUrl(limited, "/ws?topics="), "presence:session:flap");
      const flapper = await opened(wsUrl(limited, "/ws?topics="));
      // Each op flips the subscription, so each admitted one is one join or leave in the log.
      let subscribed = false;
      let admitted = 0;
      const started = performance.now();
      for (let i = 0; i < 40; i++) {
        flapper.send({ op: subscribed ? "unsubscribe" : "subscribe", topic: "session:flap", ref: `f${i}` });
        const reply = await flapper.next((f) => f.ref === `f${i}`);
        if (reply.op === "ack") {
          subscribed = !subscribed;
          admitted++;
        } else {
          expect(reply).toMatchObject({ op: "error", code: "rate_limited" });
        }
      }
      const seconds = (performance.now() - started) / 1000;
      expect(admitted).toBeLessThanOrEqual(5 + Math.ceil(5 * seconds) + 1); // the burst, then 5 a second
      expect(admitted).toBeGreaterThanOrEqual(5);
      await watcher.collect(admitted, (f) => isPresence("join")(f) || isPresence("leave")(f));
      // Topics that are not announced are not limited that way.
      for (let i = 0; i < 20; i++) flapper.send({ op: "subscribe", topic: `room:${i}`, ref: `r${i}` });
      expect((await flapper.collect(20, (f) => String(f.ref).startsWith("r"))).every((f: any) => f.op === "ack")).toBe(true);
      flapper.close();
      watcher.close();
    } finally {
      await limited.stop();
    }
  });
});

describe("presence across two instances on Redis", () => {
  const prefix = uniquePrefix("presence");
  const env = { DATABASE_URL: MYSQL_URL, REDIS_URL, STREAM_PREFIX: prefix, PRESENCE_TTL_MS: "900", PRESENCE_EVENTS: "session:*" };
  let a: Tickwire;
  let b: ChildServer;
  const open: WsTestClient[] = [];
  beforeAll(async () => {
    a = await startServer(env);
    b = await spawnServer(env);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    b?.proc.kill(9);
    await a?.stop();
  });

  it("both instances count every subscriber; join/leave frames cross; a killed instance's members expire within the TTL", async () => {
    const watcher = await subscriber(wsUrl(a, "/ws?topics="), "presence:session:c1");
    const onA = await opened(wsUrl(a, "/ws/customer/c1"));
    await until(async () => (await countOf(a, "session:c1")) === 1, { message: "A's customer" });
    const [aMember] = (await presenceOf(a, "session:c1")).body.members;
    const onB = [await opened(wsUrl(b, "/ws/customer/c1")), await opened(wsUrl(b, "/ws/customer/c1"))];
    open.push(watcher, onA, ...onB);
    for (const app of [a, b]) await until(async () => (await countOf(app, "session:c1")) === 3, { message: "3 customers on both instances" });
    const joins = await watcher.collect(3, isPresence("join"));
    expect(joins.map((j: any) => j.client).filter((c: string) => c !== aMember.client)).toHaveLength(2);

    // A customer on B leaves: gone everywhere, and A's watcher hears it.
    onB[0]!.close();
    for (const app of [a, b]) await until(async () => (await countOf(app, "session:c1")) === 2, { message: "2 customers left" });
    await watcher.next(isPresence("leave"));

    // kill -9 of B: nobody removes its entry; it expires, and A's sweep announces the leave.
    b.proc.kill(9);
    await b.exited;
    await until(async () => (await countOf(a, "session:c1")) === 1, { message: "B's customer to expire", timeoutMs: 5000 });
    await watcher.collect(2, isPresence("leave"), 5000);
    expect((await presenceOf(a, "session:c1")).body).toEqual({ topic: "session:c1", count: 1, members: [aMember], truncated: false });
  });
});

describe("the presence index on Redis", () => {
  const prefix = uniquePrefix("presence-index");
  const index = `${prefix}:presence-topics`;
  let app: Tickwire;
  let redis: Awaited<ReturnType<typeof connectRedis>>;
  const zcard = async (key: string) => Number(await redis.sendCommand<number>(["ZCARD", key]));
  beforeAll(async () => {
    redis = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "presence-index-test" });
    // A TTL of a minute: no refresh or sweep runs during the test, only leaves can empty the index.
    app = await startServer({ REDIS_URL, STREAM_PREFIX: prefix, PRESENCE_TTL_MS: "60000" });
  });
  afterAll(async () => {
    await app?.stop();
    redis?.destroy();
  });

  it("drops a topic from the index when its last member leaves: churning 300 topics leaves it empty", async () => {
    const churner = await opened(wsUrl(app, "/ws?topics="));
    const watcher = await subscriber(wsUrl(app, "/ws?topics="), "room:kept");
    for (let i = 0; i < 300; i++) {
      churner.send({ op: "subscribe", topic: `room:${i}`, ref: `s${i}` });
      churner.send({ op: "unsubscribe", topic: `room:${i}`, ref: `u${i}` });
    }
    expect((await churner.collect(600, (f) => f.ref !== undefined)).every((f: any) => f.op === "ack")).toBe(true);
    // Redis applies one instance's writes in order: once room:last is indexed, every churned leave was applied.
    churner.send({ op: "subscribe", topic: "room:last", ref: "last" });
    const indexed = () => redis.sendCommand<string[]>(["ZRANGE", index, "0", "-1"]);
    await until(async () => (await indexed()).includes("room:last"), { message: "room:last to be indexed" });
    expect((await indexed()).sort()).toEqual(["room:kept", "room:last"]);
    expect(await zcard(`${prefix}:presence:room:7`)).toBe(0);
    watcher.close();
    churner.close();
    await until(async () => (await zcard(index)) === 0, { message: "the index to be empty once every member left" });
  });

  it("one sweep removes every orphaned topic of dead instances, past one batch of them, and returns their members", async () => {
    const orphans = `${prefix}-orphans`;
    const now = Date.now();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 2500; i++) {
      writes.push(redis.sendCommand(["ZADD", `${orphans}:presence:gone:${i}`, String(now - 1000), JSON.stringify([`dead-${i}`, null])]));
      writes.push(redis.sendCommand(["ZADD", `${orphans}:presence-topics`, String(now - 1000), `gone:${i}`]));
    }
    await Promise.all(writes);
    const swept = await new RedisPresence(redis, orphans, 60_000).sweep([], now);
    expect(swept).toHaveLength(2500);
    expect(swept).toContainEqual(["gone:1234", { client: "dead-1234" }]);
    expect(await zcard(`${orphans}:presence-topics`)).toBe(0);
  });
});

describe("presence across a Redis restarted without persistence (dedicated)", () => {
  const redis = new DedicatedRedis(freePort());
  afterAll(() => redis.dispose());

  // An emptied Redis has lost the durable topics' histories: their subscribers are reset (4008)
  // to resume, and rejoin when they do. Members of a topic without a log (cron) stay connected
  // and are written back by the next refresh.
  it("comes back exact after the instances' next refresh", async () => {
    await redis.start();
    const app = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: uniquePrefix("presence-redis"), PRESENCE_TTL_MS: "600" });
    const open: WsTestClient[] = [];
    try {
      const stay = [await subscriber(wsUrl(app, "/ws?topics="), "cron"), await subscriber(wsUrl(app, "/ws?topics="), "cron")];
      const reset = [await subscriber(wsUrl(app, "/ws?topics="), "chat"), await subscriber(wsUrl(app, "/ws?topics="), "chat")];
      open.push(...stay, ...reset);
      await until(async () => (await countOf(app, "cron")) === 2 && (await countOf(app, "chat")) === 2, { message: "two subscribers on each topic" });
      await redis.kill();
      await redis.start();
      for (const c of reset) expect((await c.closed).code).toBe(4008);
      open.push(await subscriber(wsUrl(app, "/ws?topics="), "chat"));
      await until(async () => (await presenceOf(app, "cron")).body.count === 2, { message: "the refresh to write the cron members again", timeoutMs: 15_000 });
      await until(async () => (await presenceOf(app, "chat")).body.count === 1, { message: "only the chat member that came back", timeoutMs: 15_000 });
    } finally {
      for (const c of open) c.close();
      await app.stop();
    }
  });
});

describe("presence permissions (auth on)", () => {
  const SECRET = "presence-secret-0123456789abcdef";
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ JWT_SECRET: SECRET, JWT_MAX_TTL: "1h" });
  });
  afterAll(() => app?.stop());

  it("needs subscribe on the topic, for the route, the op and presence:<topic> frames; members carry the token's sub", async () => {
    const token = await mintToken(SECRET, { sub: "alice", subscribe: ["chat"], expiresIn: 600 });
    const auth = { Authorization: `Bearer ${token}` };
    expect((await presenceOf(app, "chat")).status).toBe(401);
    expect((await presenceOf(app, "relay", auth)).status).toBe(403);
    const ws = await opened(wsUrl(app, `/ws?topics=&token=${token}`));
    ws.send({ op: "subscribe", topic: "chat", ref: 1 });
    ws.send({ op: "subscribe", topic: "presence:chat", ref: 2 });
    ws.send({ op: "subscribe", topic: "presence:relay", ref: 3 });
    ws.send({ op: "presence", topic: "relay", ref: 4 });
    ws.send({ op: "presence", topic: "chat", ref: 5 });
    const answers = await ws.collect(5, (f) => f.ref !== undefined);
    const byRef = Object.fromEntries(answers.map((f: any) => [f.ref, f]));
    expect(byRef[1]).toMatchObject({ op: "ack" });
    expect(byRef[2]).toMatchObject({ op: "ack" });
    expect(byRef[3]).toMatchObject({ op: "error", code: "forbidden" });
    expect(byRef[4]).toMatchObject({ op: "error", code: "forbidden" });
    expect(byRef[5]).toMatchObject({ op: "ack", presence: { count: 1, members: [{ client: expect.any(String), user: "alice" }] } });
    expect((await presenceOf(app, "chat", auth)).body).toMatchObject({ count: 1, members: [{ user: "alice" }] });
    ws.close();
  });
});
