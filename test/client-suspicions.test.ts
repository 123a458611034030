/**
 * Three suspicions about `@tickwire/client`, each checked against a real server:
 * 1. SSE: a stream refused 403 (the token lacks the topic) ends that subscription with
 *    `onError(forbidden)`, also with a `getToken` (after one fresh token), instead of being
 *    retried forever; a 401 with a `getToken` fetches a fresh token and goes on.
 * 2. Backoff: a server path that accepts each connection and closes it at once (before any
 *    request is answered or any event arrives) is retried with a growing delay, not in a hot
 *    loop, on both transports; and on WebSocket any acknowledged request starts it over, also
 *    on a connection with no subscription (it never did: only subscribe acks reset it).
 *    (The suspicion, a reset on a mere open, was refuted: neither link resets then.)
 * 3. A publish slower than `requestTimeoutMs` (Redis stopped) rejects `outcome_unknown` (it may
 *    be stored late, and is) and leaves the socket up while pings are answered: no resume of
 *    every subscription, no leave and join of the connection on its presence topics. A publish
 *    unanswered on a really dead path still gets it dropped: by the ping sent to check it. Over
 *    SSE (an HTTP POST) it rejects `outcome_unknown` after `requestTimeoutMs` too.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import type { ChatFrame, CronFrame, PresenceFrame, StateDetail, TickwireError } from "../packages/client/src/index.ts";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { recorder } from "./support/client-recorder.ts";
import { clientOpener } from "./support/clients.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { startServer, uniquePrefix } from "./support/server.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { until } from "./support/until.ts";

const SECRET = "client-suspicions-secret-0123456789";
const FAST = { backoff: { initialMs: 20, maxMs: 5000 }, pingIntervalMs: 200, requestTimeoutMs: 1000 };

const open = clientOpener(FAST);

describe("SSE: a stream refused for lack of rights (auth on)", () => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ JWT_SECRET: SECRET });
  });
  afterAll(() => app?.stop());
  const chatOnly = () => mintToken(SECRET, { sub: "u", subscribe: ["chat"], expiresIn: 600 });

  it("with a getToken: one fresh token, then onError(forbidden) and that topic stops; the others go on", async () => {
    let issued = 0;
    const client = open(app.url, { transport: "sse", getToken: () => (issued++, chatOnly()) });
    const refusals: StateDetail[] = [];
    client.onState((state, detail) => void (state === "disconnected" && detail.code === 403 && refusals.push(detail)));
    const relay = recorder<unknown>();
    const chat = recorder<ChatFrame>();
    client.subscribe("relay", relay.handlers);
    client.subscribe("chat", chat.handlers);
    await until(() => relay.errors.length > 0, { message: () => `onError on relay; ${refusals.length} retries of the 403 so far, ${issued} tokens` });
    expect(relay.errors.map((e) => (e as { code?: string }).code)).toEqual(["forbidden"]);
    // One retry with a fresh token, and the second 403 is final (it was retried forever: 10
    // retries and 11 tokens in 10 s here). Tokens: one for both streams' first opens (they
    // asked at once; each called getToken), one fresh.
    expect(refusals).toHaveLength(1);
    expect(issued).toBe(2);
    await chat.subscribedAtLeast(1);
    const ack = await client.publish("chat", { content: "still flowing" }).catch((e: Error) => e);
    // chatOnly has no publish right: the POST is refused, the chat stream stays.
    expect(ack).toMatchObject({ code: "forbidden" });
    expect(client.state).toBe("connected");
  });

  it("with a fixed token: onError(forbidden) at once", async () => {
    const client = open(app.url, { transport: "sse", token: await chatOnly() });
    const relay = recorder<unknown>();
    client.subscribe("relay", relay.handlers);
    await until(() => relay.errors.length > 0, { message: "onError on relay" });
    expect(relay.errors.map((e) => (e as { code?: string }).code)).toEqual(["forbidden"]);
  });

  it("a 401 with a getToken: the fresh token is used and the stream opens", async () => {
    let issued = 0;
    const good = await chatOnly();
    const client = open(app.url, { transport: "sse", getToken: () => (issued++ === 0 ? "not-a-token" : good) });
    const chat = recorder<ChatFrame>();
    client.subscribe("chat", chat.handlers);
    await chat.subscribedAtLeast(1);
    expect(chat.errors).toEqual([]);
    expect(issued).toBe(2);
  });
});

/**
 * A TCP proxy that lets each connection through until the server's first bytes (the 101 of a
 * WebSocket upgrade, the 200 head of an SSE stream) and then closes it: the client sees the
 * connection open, and closed at once, before any request is answered or any event arrives.
 */
class SlamProxy {
  connections = 0;
  #listener: TCPSocketListener<{ up?: Socket<unknown>; queued: Uint8Array[] }>;
  constructor(target: number) {
    this.#listener = Bun.listen<{ up?: Socket<unknown>; queued: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (client) => {
          this.connections++;
          client.data = { queued: [] };
          void Bun.connect({
            hostname: "127.0.0.1",
            port: target,
            socket: {
              open: (up) => {
                client.data.up = up;
                for (const chunk of client.data.queued.splice(0)) up.write(chunk);
              },
              data: (up, chunk) => {
                client.write(chunk);
                client.end();
                up.end();
              },
              close: () => void client.end(),
              error: () => void client.end(),
            },
          }).catch(() => client.end());
        },
        data: (client, chunk) => {
          if (client.data.up) client.data.up.write(chunk);
          else client.data.queued.push(new Uint8Array(chunk));
        },
        close: (client) => void client.data?.up?.end(),
        error: (client) => void client.data?.up?.end(),
      },
    });
  }
  get port(): number {
    return this.#listener.port;
  }
  stop(): void {
    this.#listener.stop(true);
  }
}

describe("backoff against a server path that accepts and closes at once", () => {
  let app: Tickwire;
  let proxy: SlamProxy;
  beforeAll(async () => {
    app = await startServer();
    proxy = new SlamProxy(app.port);
  });
  afterAll(async () => {
    proxy?.stop();
    await app?.stop();
  });

  for (const transport of ["websocket", "sse"] as const) {
    it(`${transport}: the delay grows with each attempt (no reset on a mere open)`, async () => {
      const before = proxy.connections;
      const client = open(`http://127.0.0.1:${proxy.port}`, { transport });
      const delays: number[] = [];
      let opened = 0;
      client.onState((state, detail) => {
        if (state === "connected") opened++;
        if (state === "disconnected" && detail.retryInMs !== undefined) delays.push(detail.retryInMs);
      });
      client.subscribe("chat", recorder<ChatFrame>().handlers);
      // initialMs 20, factor 2: the 7th delay is drawn from [640, 1280] ms; a reset at each open keeps them all under 20.
      await until(() => delays.length >= 7, { message: () => `7 attempts; delays ${delays.map(Math.round)}` });
      client.close();
      // Each attempt did open (the client saw the 101 / the 200) before the close.
      expect(opened).toBeGreaterThanOrEqual(6);
      expect(delays[6]!).toBeGreaterThanOrEqual(640);
      expect(proxy.connections - before).toBeLessThanOrEqual(8);
    });
  }
});

describe("WebSocket through a TCP proxy, no subscription", () => {
  let app: Tickwire;
  let proxy: TcpProxy;
  beforeAll(async () => {
    app = await startServer();
    proxy = await TcpProxy.start(app.port);
  });
  afterAll(async () => {
    proxy?.stop();
    await app?.stop();
  });

  it("an acknowledged publish starts the backoff over", async () => {
    const client = open(`http://127.0.0.1:${proxy.port}`, { transport: "websocket" });
    const delays: number[] = [];
    client.onState((state, detail) => void (state === "disconnected" && detail.retryInMs !== undefined && delays.push(detail.retryInMs)));
    await until(() => client.state === "connected", { message: "the first connection" });
    proxy.cut();
    // The 6th delay is drawn from [320, 640] ms.
    await until(() => delays.length >= 6, { message: () => `6 failed attempts; delays ${delays.map(Math.round)}` });
    proxy.restore();
    await until(() => client.state === "connected", { message: "the connection back" });
    await client.publish("chat", { content: "the connection works" });
    const before = delays.length;
    proxy.cut();
    await until(() => delays.length > before, { message: "the drop" });
    proxy.restore();
    // From the first step again (initialMs 20: at most 20 ms); it went on from 640-1280 ms.
    expect(delays[before]!).toBeLessThanOrEqual(20);
  });

  it("a publish unanswered on a dead path (pings off): it rejects, then the ping that checks the path drops it", async () => {
    const client = open(`http://127.0.0.1:${proxy.port}`, { transport: "websocket", pingIntervalMs: 0, requestTimeoutMs: 300 });
    const drops: StateDetail[] = [];
    client.onState((state, detail) => void (state === "disconnected" && drops.push(detail)));
    await until(() => client.state === "connected", { message: "the connection" });
    proxy.blackhole();
    await expect(client.publish("chat", { content: "into the void" })).rejects.toMatchObject({ code: "outcome_unknown" });
    proxy.restore();
    await until(() => drops.length > 0, { message: "the dead path dropped" });
    expect(drops[0]!.reason).toBe("a request timed out: the path is dead");
    await until(() => client.state === "connected", { message: "a new connection" });
    expect((await client.publish("chat", { content: "over the new one" })).seq).toBeString();
  });
});

describe("a publish slower than requestTimeoutMs (Redis stopped)", () => {
  const redis = new DedicatedRedis(freePort());
  let app: Tickwire;
  beforeAll(async () => {
    await redis.start();
    app = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: uniquePrefix("client-susp"), PRESENCE_EVENTS: "chat", TICK_MS: "100" });
  });
  afterAll(async () => {
    redis.proc?.kill("SIGCONT");
    await app?.stop();
    await redis.dispose();
  });

  it("rejects outcome_unknown, the socket stays (pings answered), the subscriptions and presence go on", async () => {
    const requestTimeoutMs = 400;
    const client = open(app.url, { transport: "websocket", pingIntervalMs: 100, requestTimeoutMs, backoff: { initialMs: 20, maxMs: 200 } });
    const drops: StateDetail[] = [];
    client.onState((state, detail) => void (state === "disconnected" && drops.push(detail)));
    const chat = recorder<ChatFrame>();
    const cron = recorder<CronFrame>();
    client.subscribe("chat", chat.handlers);
    client.subscribe("cron", cron.handlers);
    // Another user, watching who is in chat.
    const watcher = open(app.url, { transport: "websocket" });
    const presence = recorder<PresenceFrame<"presence:chat">>();
    watcher.subscribe("presence:chat", presence.handlers);
    await Promise.all([chat.subscribedAtLeast(1), cron.subscribedAtLeast(1), presence.subscribedAtLeast(1)]);
    await presence.until((f) => f.some((e) => e.event === "join"), "the client's join");
    await client.publish("chat", { content: "before" });

    redis.proc!.kill("SIGSTOP");
    let failed: TickwireError | undefined;
    try {
      await client.publish("chat", { content: "slow" }).catch((e: TickwireError) => void (failed = e));
      expect(failed?.code).toBe("outcome_unknown");
      const at = Date.now();
      // Cron frames (in-process, no Redis) go on for well past the ping that checks the path.
      await cron.until((f) => f.some((t) => t.ts > at + 3 * requestTimeoutMs), "cron frames after the timeout");
      expect(drops).toEqual([]);
    } finally {
      redis.proc!.kill("SIGCONT");
    }
    // The rejected publish was stored after all: its outcome was indeed unknown.
    await chat.until((f) => f.some((m) => m.content === "slow"), "the slow message");
    const after = await client.publish("chat", { content: "after" });
    await chat.until((f) => f.some((m) => m.seq === after.seq), "the message after");
    expect(chat.frames.map((m) => m.content)).toEqual(["before", "slow", "after"]);
    expect(chat.subscribed).toBe(1);
    // A third connection joins: every earlier presence event is before its join in the log.
    const third = open(app.url, { transport: "websocket" });
    third.subscribe("chat", recorder<ChatFrame>().handlers);
    await presence.until((f) => f.filter((e) => e.event === "join").length >= 2, "the third connection's join");
    expect(presence.frames.map((e) => e.event)).toEqual(["join", "join"]);
    expect(drops).toEqual([]);
  });

  it("SSE: a publish (an HTTP POST) rejects outcome_unknown after requestTimeoutMs too, instead of waiting for the server", async () => {
    const requestTimeoutMs = 300;
    const client = open(app.url, { transport: "sse", requestTimeoutMs });
    const chat = recorder<ChatFrame>();
    client.subscribe("chat", chat.handlers);
    await chat.subscribedAtLeast(1);
    redis.proc!.kill("SIGSTOP");
    let failed: TickwireError | undefined;
    const at = performance.now();
    try {
      await client.publish("chat", { content: "slow over sse" }).catch((e: TickwireError) => void (failed = e));
    } finally {
      redis.proc!.kill("SIGCONT");
    }
    // The server's own bound on a Redis command (5 s) is far past the client's.
    expect(performance.now() - at).toBeLessThan(4000);
    expect(failed?.code).toBe("outcome_unknown");
    expect(failed?.message).toContain(`no answer within ${requestTimeoutMs} ms`);
    await chat.until((f) => f.some((m) => m.content === "slow over sse"), "the slow message, stored after all");
  });
});
