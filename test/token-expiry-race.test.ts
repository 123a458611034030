/**
 * A token whose `exp` passes between its verification and the moment the connection subscribes:
 * the expiry timer then fires at once and closes the connection before it has subscribed. What
 * the subscribe would register after that is never removed, so it must register nothing:
 * - SSE (`/events`): no presence member and no SSE transport sink (no delivery counted);
 * - WebSocket (`/ws?topics=`, `/ws/broadcast`): no presence member (no `join` without `leave`).
 * Deterministic: the server's clock jumps ahead when the stream's body starts or the socket
 * opens, standing in for the time between verification and subscribe. In both storage modes; in
 * Redis mode, presence writes are asynchronous, so a control connection that does subscribe is
 * awaited first and the count must then be exactly its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mintToken } from "../src/auth/tokens.ts";
import type { Clock } from "../src/core/clock.ts";
import type { Tickwire } from "../src/main.ts";
import { SseConnection } from "../src/transports/sse/connection.ts";
import { WsTransport } from "../src/transports/ws/ws-transport.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { type SseTestClient, sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const SECRET = "token-expiry-race-secret-0123456789";
/** How far the clock jumps: past any token minted with a 2 s lifetime. */
const JUMP_MS = 5000;

// The servers' clock: real time plus `offset`, which jumps while `racing` when a stream's body
// starts (SSE) or a socket opens (WebSocket), i.e. after verification and before subscribing.
let offset = 0;
let racing = false;
const clock: Clock = {
  now: () => Date.now() + offset,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
const bind = SseConnection.prototype.bind;
SseConnection.prototype.bind = function (this: SseConnection, writer) {
  if (racing) offset += JUMP_MS;
  return bind.call(this, writer);
};
const opened = WsTransport.prototype.opened;
WsTransport.prototype.opened = function (this: WsTransport, ws) {
  if (racing) offset += JUMP_MS;
  return opened.call(this, ws);
};
afterAll(() => {
  SseConnection.prototype.bind = bind;
  WsTransport.prototype.opened = opened;
});

/** Runs `connect` with the clock jumping once the connection is past verification, then puts the clock back. */
async function race<T>(connect: () => Promise<T>): Promise<T> {
  racing = true;
  try {
    return await connect();
  } finally {
    racing = false;
    offset = 0;
  }
}

const shortToken = () => mintToken(SECRET, { sub: "victim", subscribe: ["*"], expiresIn: 2 });

for (const mode of MODES) {
  describe(`token expiry before subscribe (${mode.name})`, () => {
    let app: Tickwire;
    let admin: string;
    const open: { close(): void }[] = [];
    beforeAll(async () => {
      app = await startServer({ ...mode.env(uniquePrefix("expiry-race")), JWT_SECRET: SECRET, PRESENCE_EVENTS: "session:*" }, clock);
      admin = await mintToken(SECRET, { sub: "admin", subscribe: ["*"], publish: ["*"], expiresIn: "1h" });
    });
    afterAll(async () => {
      for (const c of open) c.close();
      await app?.stop();
    });

    const auth = () => ({ authorization: `Bearer ${admin}` });
    const count = async (topic: string) =>
      ((await (await fetch(`${app.url}/presence/${encodeURIComponent(topic)}`, { headers: auth() })).json()) as { count: number }).count;
    /** Presence of `topics` once a control member of each is seen: exactly the controls', without ghosts. */
    const settled = async (topics: string[]) => {
      await until(async () => (await Promise.all(topics.map(count))).every((n) => n >= 1), { message: "the control members to be listed" });
      return Object.fromEntries(await Promise.all(topics.map(async (t) => [t, await count(t)])));
    };
    const delivered = async () => {
      const line = (await (await fetch(`${app.url}/metrics`)).text()).split("\n").find((l) => l.startsWith('tickwire_events_delivered_total{topic="chat"}'));
      return Number(line?.split(" ").pop() ?? 0);
    };
    const wsClosed = async (path: string) => (await race(async () => wsClient(wsUrl(app, path)).closed)).code;

    it("an SSE stream ended at its token's expiry before subscribing leaves no presence member and no sink", async () => {
      const short = await shortToken();
      const text = await race(async () => (await fetch(`${app.url}/events?topics=chat,session:t1&token=${short}`)).text());
      expect(text).toContain("token_expired");
      expect(((await (await fetch(`${app.url}/health`)).json()) as { connections: { sse: number } }).connections.sse).toBe(0);

      const control: SseTestClient = await sseClient(`${app.url}/events?topics=chat,session:t1`, auth());
      open.push(control);
      expect(await settled(["chat", "session:t1"])).toEqual({ chat: 1, "session:t1": 1 });
      // One chat message reaches the control stream only: a ghost sink would count a second delivery.
      const before = await delivered();
      const post = await fetch(`${app.url}/messages`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json" },
        body: JSON.stringify({ content: "after the race" }),
      });
      expect(post.status).toBe(201);
      await control.next((e) => e.data.includes("after the race"));
      expect((await delivered()) - before).toBe(1);
      control.close();
      await until(async () => (await count("chat")) === 0 && (await count("session:t1")) === 0, { message: "the control stream to leave" });
    });

    it("a /ws socket closed at its token's expiry before subscribing leaves no presence member", async () => {
      const short = await shortToken();
      expect(await wsClosed(`/ws?topics=lobby,session:t2&token=${short}`)).toBe(4401);
      expect(await wsClosed(`/ws/broadcast?token=${short}`)).toBe(4401);

      const controls: WsTestClient[] = [
        wsClient(wsUrl(app, `/ws?topics=lobby,session:t2&token=${admin}`)),
        wsClient(wsUrl(app, `/ws/broadcast?token=${admin}`)),
      ];
      open.push(...controls);
      await Promise.all(controls.map((c) => c.opened));
      expect(await settled(["lobby", "session:t2", "relay"])).toEqual({ lobby: 1, "session:t2": 1, relay: 1 });
      for (const c of controls) c.close();
    });
  });
}
