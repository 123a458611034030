/**
 * Issue #20, `@tickwire/client`:
 * - the SSE transport (one `/events` stream per topic, read with `fetch` in Bun) keeps the same
 *   promise over a cut network path: what was published meanwhile arrives once, in order;
 *   publish on chat goes by `POST /messages`;
 * - token refresh: with 3-second tokens from `getToken`, a WebSocket client stays connected
 *   across the first token's expiry (a raw socket holding the same token is closed 4401 then),
 *   and keeps receiving; over SSE the streams are reopened with a new token before expiry and
 *   nothing is lost or repeated.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { ChatFrame, Client, ConnectionState } from "../packages/client/src/index.ts";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { checkDelivery, recorder } from "./support/client-recorder.ts";
import { clientOpener } from "./support/clients.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";

const SECRET = "client-token-secret-0123456789";
const everything = { publish: ["*"], subscribe: ["*"] };
const FAST = { backoff: { initialMs: 20, maxMs: 200 }, pingIntervalMs: 200, requestTimeoutMs: 1000 };

const open = clientOpener(FAST);
const contents = (frames: ChatFrame[]) => frames.map((f) => f.content);
const recordStates = (c: Client) => {
  const seen: ConnectionState[] = [];
  c.onState((s) => seen.push(s));
  return seen;
};

async function post(app: Tickwire, content: string, token?: string): Promise<string> {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return content;
}

for (const mode of MODES) {
  describe(`@tickwire/client over SSE (${mode.name})`, () => {
    let app: Tickwire;
    let proxy: TcpProxy;
    beforeAll(async () => {
      app = await startServer(mode.env(uniquePrefix("client-sse")));
      proxy = await TcpProxy.start(app.port);
    });
    afterAll(async () => {
      proxy?.stop();
      await app?.stop();
    });

    it("resumes each topic's stream after a cut: every acked message once, in order, no onRecovered", async () => {
      const client = open(`http://127.0.0.1:${proxy.port}`, { transport: "sse" });
      const chat = recorder<ChatFrame>();
      client.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      const acked = [await post(app, "sse-before")];
      await chat.until((f) => f.length === 1, "the first message");

      proxy.cut();
      await until(() => client.state === "disconnected", { message: "the client to see the cut" });
      for (let i = 0; i < 10; i++) acked.push(await post(app, `sse-during-${i}`));
      proxy.restore();
      await chat.subscribedAtLeast(2);
      await chat.until((f) => f.length >= acked.length, "every acked message");
      expect(contents(chat.frames)).toEqual(acked);
      expect(chat.recovered).toEqual([]);
    });

    it("a stream that saw no event before the cut resumes from the position the server sent at open", async () => {
      const client = open(`http://127.0.0.1:${proxy.port}`, { transport: "sse" });
      const chat = recorder<ChatFrame>();
      const sub = client.subscribe("chat", chat.handlers);
      await until(() => sub.lastSeq !== undefined, { message: "the position event" });
      proxy.cut();
      await until(() => client.state === "disconnected", { message: "the client to see the cut" });
      const acked = [await post(app, "sse-unseen-1"), await post(app, "sse-unseen-2")];
      proxy.restore();
      await chat.until((f) => f.length >= 2, "both messages");
      expect(contents(chat.frames)).toEqual(acked);
      expect(chat.recovered).toEqual([]);
    });

    it("publishes chat by POST /messages and receives it once", async () => {
      const client = open(app.url, { transport: "sse" });
      const chat = recorder<ChatFrame>();
      client.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      const ack = await client.publish("chat", { content: "over sse" });
      await chat.until((f) => f.some((m) => m.seq === ack.seq), "its own message");
      expect(chat.frames.filter((m) => m.seq === ack.seq)).toHaveLength(1);
      await expect(client.publish("relay", "x")).rejects.toMatchObject({ code: "not_publishable" });
    });
  });
}

describe("@tickwire/client token refresh (auth on)", () => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ JWT_SECRET: SECRET, JWT_MAX_TTL: "1h" });
  });
  afterAll(() => app?.stop());

  const mint = (seconds: number) => mintToken(SECRET, { sub: "u", ...everything, expiresIn: seconds });

  it("keeps a WebSocket connection open across the token's expiry by refreshing in-band", async () => {
    const first = await mint(3);
    let issued = 0;
    const client = open(app.url, { getToken: async () => (issued++ === 0 ? first : mint(3)) });
    const states = recordStates(client);
    const chat = recorder<ChatFrame>();
    client.subscribe("chat", chat.handlers);
    await chat.subscribedAtLeast(1);
    // A socket holding the same first token, never refreshed: its close marks the expiry.
    const control = wsClient(wsUrl(app, `/ws?topics=chat&token=${first}`));
    await control.opened;
    expect((await control.closed).code).toBe(4401);

    const token = await mint(60);
    const acked = [await post(app, "after the first exp", token)];
    await chat.until((f) => f.length >= 1, "a message after the first token expired");
    expect(contents(chat.frames)).toEqual(acked);
    expect(states).toEqual(["connecting", "connected"]);
    expect(issued).toBeGreaterThanOrEqual(2);
  });

  it("over SSE, reopens the streams with a new token before expiry: nothing lost, nothing twice", async () => {
    const first = await mint(3);
    let issued = 0;
    const client = open(app.url, { transport: "sse", getToken: async () => (issued++ === 0 ? first : mint(3)) });
    const chat = recorder<ChatFrame>();
    client.subscribe("chat", chat.handlers);
    await chat.subscribedAtLeast(1);
    const token = await mint(60);
    const acked: string[] = [];
    const exp = (JSON.parse(atob(first.split(".")[1]!)) as { exp: number }).exp * 1000;
    // Publish until the first token is well past its expiry.
    for (let i = 0; Date.now() < exp + 1500; i++) {
      acked.push(await post(app, `sse-token-${i}`, token));
      await chat.until((f) => f.length >= acked.length, "each message as it is published");
    }
    expect(chat.subscribed).toBeGreaterThanOrEqual(2);
    checkDelivery(contents(chat.frames), acked, chat.recovered);
    expect(contents(chat.frames)).toEqual(acked);
    expect(chat.recovered).toEqual([]);
  });
});
