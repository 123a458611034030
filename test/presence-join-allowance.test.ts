/**
 * The joins one client has announced on the shared `presence` log are bounded, whatever the way
 * it joins (`?topics=` on `/ws`, `GET /events`, the in-band op) and however often it reconnects:
 * `PRESENCE_JOIN_BURST` (128) at once, then `PRESENCE_JOINS_PER_SECOND` (5) a second, per token
 * `sub` (anonymous clients share one allowance). Past it the client is still subscribed, and
 * counted by `GET /presence`, but neither its join nor its leave is appended; the refusal is
 * counted as `tickwire_limit_refusals_total{limit="presence_joins"}`.
 *
 * The servers run on a clock that stands still unless the test moves it, so the allowance
 * refills only when told: exactly the burst is announced during a reconnect loop.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mintToken } from "../src/auth/tokens.ts";
import { loadConfig } from "../src/config/index.ts";
import { VirtualClock } from "../src/core/virtual-clock.ts";
import { silentLogger } from "../src/log.ts";
import { startTickwire, type Tickwire } from "../src/main.ts";
import { MODES, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const SECRET = "join-allowance-secret-0123456789";
/** `src/features/presence/join-allowance.ts` (written out here, so that this file runs against a server without the limit too). */
const PRESENCE_JOIN_BURST = 128;
const PRESENCE_JOINS_PER_SECOND = 5;
/** `session:f0` … `session:f127`: one connection naming them joins 128 announced topics. */
const FLOOD = Array.from({ length: 128 }, (_, i) => `session:f${i}`);

const running: Tickwire[] = [];
afterAll(async () => {
  for (const app of running) await app.stop();
});

async function serverAt(clock: VirtualClock, env: Record<string, string>): Promise<Tickwire> {
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: "sqlite::memory:", ...env });
  const app = await startTickwire(config, { clock, logger: silentLogger });
  running.push(app);
  return app;
}

/** The value of one `/metrics` line (0 when absent). */
async function metric(app: Tickwire, line: string): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  return Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`${line} `))
      ?.split(" ")
      .pop() ?? 0,
  );
}
const refusals = (app: Tickwire) => metric(app, 'tickwire_limit_refusals_total{limit="presence_joins"}');
/** Entries delivered on presence topics (each log entry counts twice: the root and its `presence:<t>`). */
const presenceDelivered = (app: Tickwire) => metric(app, 'tickwire_events_published_total{topic="presence"}');

/** Awaits `read()` answering `expected`; the timeout names the last answer. */
async function reaches(read: () => Promise<number>, expected: number, what: string, timeoutMs = 5000): Promise<void> {
  let last: number | undefined;
  await until(async () => (last = await read()) === expected, { message: () => `${expected} ${what} (last: ${last})`, timeoutMs });
}

const countOf = async (app: Tickwire, topic: string, headers: Record<string, string> = {}) =>
  ((await (await fetch(`${app.url}/presence/${encodeURIComponent(topic)}`, { headers })).json()) as { count: number }).count;

async function opened(url: string): Promise<WsTestClient> {
  const c = wsClient(url);
  await c.opened;
  return c;
}

/** A `/ws` client subscribed in-band to `topic` (presence topics announce nothing). */
async function watcher(url: string, topic: string): Promise<WsTestClient> {
  const c = await opened(url);
  c.send({ op: "subscribe", topic, ref: "w" });
  await c.next((f) => f.op === "ack" && f.ref === "w");
  return c;
}

/** One connect naming `topics`, closed again at once: over SSE, or over `/ws?topics=`. */
async function flap(app: Tickwire, via: "sse" | "ws", topics: readonly string[], token?: string): Promise<void> {
  const auth = token === undefined ? "" : `&token=${token}`;
  if (via === "sse") {
    const sse = await sseClient(`${app.url}/events?topics=${topics.join(",")}${auth}`);
    expect(sse.response.status).toBe(200);
    sse.close();
    return;
  }
  const ws = await opened(wsUrl(app, `/ws?topics=${topics.join(",")}${auth}`));
  ws.close();
  await ws.closed;
}

const isPresence = (event: string, subject?: string) => (f: any) =>
  f?.topic?.startsWith("presence:") && f.event === event && (subject === undefined || f.subject === subject);

for (const mode of MODES) {
  describe(`presence join allowance (${mode.name})`, () => {
    it("bounds the joins a reconnect loop announces over ?topics= and SSE; a refused join still subscribes, silently", async () => {
      const clock = new VirtualClock(Date.now());
      const app = await serverAt(clock, { ...mode.env(uniquePrefix("join-allowance")), PRESENCE_EVENTS: "session:*,chat", HISTORY_SIZE: "20000" });
      const chatWatcher = await watcher(wsUrl(app, "/ws?topics="), "presence:chat");
      const connects = 20;
      for (let i = 0; i < connects; i++) await flap(app, i % 2 === 0 ? "sse" : "ws", FLOOD);
      // The first connect's joins take the whole burst; the clock has not moved, so no other join is announced.
      // 128 joins and their 128 leaves, and nothing else (the refused joins' leaves are not announced either).
      await reaches(() => presenceDelivered(app), 2 * 2 * PRESENCE_JOIN_BURST, "deliveries of presence entries (2 per entry)");
      const refused = connects * FLOOD.length - PRESENCE_JOIN_BURST;
      await reaches(() => refusals(app), refused, "presence_joins refusals");
      for (const topic of ["session:f0", "session:f127"]) expect(await countOf(app, topic)).toBe(0);

      // Past the allowance the subscription works and is counted; only its frames are left out.
      const silent = await opened(wsUrl(app, "/ws?topics=chat"));
      await until(async () => (await countOf(app, "chat")) === 1, { message: "the silent chat subscriber to be counted" });
      const posted = await fetch(`${app.url}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ content: "hi" }),
      });
      expect(posted.status).toBe(201);
      expect(await silent.next((f) => f.topic === "chat")).toMatchObject({ topic: "chat", content: "hi" });
      expect(await refusals(app)).toBe(refused + 1);
      silent.close();
      await until(async () => (await countOf(app, "chat")) === 0, { message: "the silent chat subscriber to leave" });

      // The allowance refills with time: PRESENCE_JOINS_PER_SECOND a second.
      clock.stall(1000 / PRESENCE_JOINS_PER_SECOND);
      const announced = await opened(wsUrl(app, "/ws?topics=chat"));
      const join = await chatWatcher.next(isPresence("join", "chat"));
      expect(chatWatcher.frames.filter((f) => isPresence("join")(f) || isPresence("leave")(f))).toEqual([join]);
      expect(((await (await fetch(`${app.url}/presence/chat`)).json()) as { members: unknown[] }).members).toEqual([{ client: join.client }]);
      await reaches(() => presenceDelivered(app), 2 * (2 * PRESENCE_JOIN_BURST + 1), "deliveries, the one more join included");

      // The retained history holds exactly one join and one leave per flooded topic.
      const history = await opened(wsUrl(app, `/ws?topics=presence:session:f0,presence:session:f63,presence:session:f127,presence:chat&since=0-0`));
      const replayed = await history.collect(7, (f) => f?.topic?.startsWith("presence:") && f.event !== undefined);
      expect(replayed.map((f: any) => `${f.subject} ${f.event}`).sort()).toEqual([
        "chat join",
        "session:f0 join",
        "session:f0 leave",
        "session:f127 join",
        "session:f127 leave",
        "session:f63 join",
        "session:f63 leave",
      ]);
      for (const c of [history, announced, chatWatcher]) c.close();
    });

    it("keeps one allowance per token sub: a flooding sub leaves another sub's joins announced", async () => {
      const clock = new VirtualClock(Date.now());
      const app = await serverAt(clock, {
        ...mode.env(uniquePrefix("join-allowance-sub")),
        PRESENCE_EVENTS: "session:*,chat",
        JWT_SECRET: SECRET,
        JWT_MAX_TTL: "1h",
      });
      const token = (sub: string) => mintToken(SECRET, { sub, subscribe: ["*"], expiresIn: 600 });
      const [flooder, honest, observer] = await Promise.all([token("flooder"), token("honest"), token("observer")]);
      const chatWatcher = await watcher(wsUrl(app, `/ws?topics=&token=${observer}`), "presence:chat");
      await flap(app, "sse", FLOOD, flooder);
      await flap(app, "ws", FLOOD, flooder);
      await reaches(() => refusals(app), FLOOD.length, "refusals: the flooder's second connect");
      // Reconnecting does not refill the flooder's allowance…
      const again = await opened(wsUrl(app, `/ws?topics=chat&token=${flooder}`));
      await reaches(() => refusals(app), FLOOD.length + 1, "refusals: the flooder's chat join too");
      // …and another sub's joins are announced all the same.
      const other = await opened(wsUrl(app, `/ws?topics=chat&token=${honest}`));
      expect(await chatWatcher.next(isPresence("join", "chat"))).toMatchObject({ user: "honest" });
      expect(await countOf(app, "chat", { Authorization: `Bearer ${observer}` })).toBe(2);
      other.close();
      expect(await chatWatcher.next(isPresence("leave", "chat"))).toMatchObject({ user: "honest" });
      expect(chatWatcher.frames.filter((f: any) => f?.user === "flooder")).toEqual([]);
      for (const c of [again, chatWatcher]) c.close();
    });
  });
}
