/**
 * Issue 16, replay limits: a connection may start `REPLAY_RATE` replays a second (bursts of
 * `REPLAY_BURST`). A client that re-subscribes with `since:"0-0"` 50 times as fast as it can gets
 * an `ack` for every replay within its allowance and, instead of the ack, an `error`
 * `rate_limited` with the subscribe's `ref` for every one past it; `/metrics` counts the refusals;
 * other clients are unaffected meanwhile (their own replays, chat delivery, `/health`).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

// Response bodies are checked by the assertions; typed loosely on purpose.
const anyJson = (v: unknown): any => v;

const RATE = 5;
const BURST = 5;
const PAIRS = 50;

const isChat = (f: any) => f?.topic === "chat" && f.op === undefined;
const isReply = (f: any) => f?.op === "ack" || f?.op === "error";

async function post(app: Tickwire, content: string): Promise<string> {
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return (await res.json().then(anyJson)).seq;
}

async function refusedRateLimited(app: Tickwire): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith('tickwire_replays_refused_total{reason="rate_limited"}'));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

async function openWs(url: string): Promise<WsTestClient> {
  const c = wsClient(url);
  await c.opened;
  return c;
}

describe("replay limits per connection (REPLAY_RATE=5, REPLAY_BURST=5)", () => {
  let app: Tickwire;
  const history: string[] = [];

  beforeAll(async () => {
    app = await startServer({ REPLAY_RATE: String(RATE), REPLAY_BURST: String(BURST) });
    for (let i = 0; i < 10; i++) history.push(await post(app, `h${i}`));
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("refuses replays past the allowance with rate_limited, counts them, and leaves other clients alone", async () => {
    const refusedBefore = await refusedRateLimited(app);
    const other = await openWs(wsUrl(app, "/ws?topics="));
    const flooder = await openWs(wsUrl(app, "/ws?topics="));

    const started = performance.now();
    for (let i = 0; i < PAIRS; i++) {
      flooder.send({ op: "unsubscribe", topic: "chat", ref: `u${i}` });
      flooder.send({ op: "subscribe", topic: "chat", since: "0-0", ref: `s${i}` });
    }
    // Meanwhile another connection resumes, hears a live message and /health answers.
    other.send({ op: "subscribe", topic: "chat", since: history[4], ref: "other" });
    const health = await fetch(`${app.url}/health`);
    expect(health.status).toBe(200);
    const live = await post(app, "live during the flood");
    await other.next((f) => isChat(f) && f.seq === live);
    expect(other.frames.filter((f: any) => f?.op === "error")).toEqual([]);
    expect(other.frames.filter(isChat).map((f: any) => f.seq)).toEqual([...history.slice(5), live]);

    await flooder.collect(PAIRS * 2, isReply);
    const elapsed = (performance.now() - started) / 1000;
    // Every op is answered once: a subscribe within the allowance by its ack, one past it by the
    // refusal, with its ref (a client matching replies by ref knows it is not subscribed).
    const replies = flooder.frames.filter(isReply) as any[];
    let granted = 0;
    let refused = 0;
    let at = 0;
    for (let i = 0; i < PAIRS; i++) {
      expect(replies[at++]).toEqual({ op: "ack", ref: `u${i}`, topic: "chat" });
      const reply = replies[at++];
      if (reply?.op === "error") {
        expect(reply).toMatchObject({ op: "error", code: "rate_limited", ref: `s${i}`, topic: "chat", message: expect.any(String) });
        refused++;
      } else {
        expect(reply).toEqual({ op: "ack", ref: `s${i}`, topic: "chat" });
        granted++;
      }
    }
    expect(at).toBe(replies.length);
    // The burst at once, then at most RATE a second (plus one for rounding).
    expect(granted).toBeGreaterThanOrEqual(BURST);
    expect(granted).toBeLessThanOrEqual(BURST + Math.ceil(RATE * elapsed) + 1);
    expect(refused).toBe(PAIRS - granted);
    expect(refused).toBeGreaterThan(0);
    expect(flooder.ws.readyState).toBe(WebSocket.OPEN);

    // Counted in /metrics.
    expect(await refusedRateLimited(app)).toBeGreaterThanOrEqual(refusedBefore + refused);

    // Still serving others while the flooder is limited: a fresh connection's replay goes through.
    const fresh = await openWs(wsUrl(app, `/ws?topics=chat&since=${history[8]}`));
    await fresh.next((f) => isChat(f) && f.seq === live);
    expect(fresh.frames.filter((f: any) => f?.op !== undefined)).toEqual([]);
    expect(fresh.frames.map((f: any) => f.seq)).toEqual([history[9], live]);

    // The allowance refills: a later subscribe with since on the flooder is granted again.
    await until(
      async () => {
        flooder.send({ op: "unsubscribe", topic: "chat" });
        const ref = `later-${performance.now()}`;
        flooder.send({ op: "subscribe", topic: "chat", since: history[8], ref });
        // A refusal answers the subscribe; a grant is acknowledged and replays h9.
        const reply = await flooder.next((f) => isReply(f) && f.ref === ref);
        if (reply.op === "error") return false;
        await flooder.next((f) => isChat(f) && f.seq === history[9]);
        return true;
      },
      { message: "the flooder's replay allowance to refill", intervalMs: 100 },
    );
    for (const c of [other, flooder, fresh]) c.close();
  });
});
