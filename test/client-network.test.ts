/**
 * Issue #20, `@tickwire/client` against a real server over a TCP proxy that cuts the network
 * path, in both storage modes: a reset path (the client sees the close) and a dead one (nothing
 * arrives, no FIN: the client's unanswered ping tells it). Messages published meanwhile, acked
 * by the server, reach the application exactly once when the path is back, with no
 * `onRecovered`, including on a subscription that had not received any frame before the cut
 * (it resumes from the position in its subscribe ack).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { type ChatFrame, type Client, type ConnectionState, type CronFrame, connect } from "../packages/client/src/index.ts";
import type { Tickwire } from "../src/main.ts";
import { checkDelivery, recorder } from "./support/client-recorder.ts";
import { MODES, startServer, uniquePrefix } from "./support/server.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { until } from "./support/until.ts";

async function post(app: Tickwire, content: string): Promise<string> {
  const res = await fetch(`${app.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });
  expect(res.status).toBe(201);
  return content;
}

const contents = (frames: ChatFrame[]) => frames.map((f) => f.content);

for (const mode of MODES) {
  describe(`@tickwire/client over a cut network path (${mode.name})`, () => {
    let app: Tickwire;
    let proxy: TcpProxy;
    const clients: Client[] = [];
    const open = (opts: Parameters<typeof connect>[1] = {}) => {
      const c = connect(`http://127.0.0.1:${proxy.port}`, { backoff: { initialMs: 20, maxMs: 200 }, pingIntervalMs: 100, requestTimeoutMs: 400, ...opts });
      clients.push(c);
      return c;
    };
    const states = (c: Client) => {
      const seen: ConnectionState[] = [];
      c.onState((s) => seen.push(s));
      return seen;
    };

    beforeAll(async () => {
      app = await startServer({ ...mode.env(uniquePrefix("client-net")), TICK_MS: "200" });
      proxy = await TcpProxy.start(app.port);
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      proxy?.stop();
      await app?.stop();
    });

    it("a reset path: what was published meanwhile arrives once, in order, with no onRecovered", async () => {
      const client = open();
      const seenStates = states(client);
      const chat = recorder<ChatFrame>();
      client.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      const acked = [await post(app, "before")];
      await chat.until((f) => f.length === 1, "the first message");

      proxy.cut();
      await until(() => client.state === "disconnected", { message: "the client to see the cut" });
      for (let i = 0; i < 20; i++) acked.push(await post(app, `during-${i}`));
      proxy.restore();
      await chat.subscribedAtLeast(2);
      acked.push(await post(app, "after"));
      await chat.until((f) => f.length >= acked.length, "every acked message");

      expect(contents(chat.frames)).toEqual(acked);
      checkDelivery(contents(chat.frames), acked, chat.recovered);
      expect(chat.recovered).toEqual([]);
      expect(seenStates.slice(0, 4)).toEqual(["connecting", "connected", "disconnected", "connecting"]);
      expect(client.state).toBe("connected");
    });

    it("a dead path (no close, nothing arrives): the unanswered ping drops it, and nothing is lost", async () => {
      const client = open();
      const chat = recorder<ChatFrame>();
      client.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      const acked = [await post(app, "dead-before")];
      await chat.until((f) => contents(f).includes("dead-before"), "the first message");

      proxy.blackhole();
      for (let i = 0; i < 10; i++) acked.push(await post(app, `dead-during-${i}`));
      await until(() => client.state !== "connected", { message: "the client to notice the dead path" });
      proxy.restore();
      await chat.subscribedAtLeast(2);
      await chat.until((f) => f.length >= acked.length, "every acked message");

      expect(contents(chat.frames)).toEqual(acked);
      expect(chat.recovered).toEqual([]);
    });

    it("a subscription that saw no frame before the cut resumes from its subscribe ack's position", async () => {
      const client = open();
      const chat = recorder<ChatFrame>();
      const sub = client.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      expect(sub.lastSeq).toMatch(/^\d+-\d+$/);

      proxy.cut();
      await until(() => client.state === "disconnected", { message: "the client to see the cut" });
      const acked = [await post(app, "unseen-1"), await post(app, "unseen-2")];
      proxy.restore();
      await chat.until((f) => f.length >= 2, "both messages");
      expect(contents(chat.frames)).toEqual(acked);
      expect(chat.recovered).toEqual([]);
    });

    it("an ephemeral topic (cron) resubscribes live after a cut, with no onRecovered", async () => {
      const client = open();
      const cron = recorder<CronFrame>();
      client.subscribe("cron", cron.handlers);
      await cron.until((f) => f.length >= 1, "a tick");
      proxy.cut();
      await until(() => client.state === "disconnected", { message: "the client to see the cut" });
      const before = cron.frames.length;
      proxy.restore();
      await cron.until((f) => f.length >= before + 2, "ticks after the cut");
      expect(cron.recovered).toEqual([]);
      const seqs = cron.frames.map((f) => f.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
    });

    it("publishes over the client and gets the stored seq; the subscriber sees it once", async () => {
      const client = open();
      const chat = recorder<ChatFrame>();
      client.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      const ack = await client.publish("chat", { content: "from the client" });
      expect(ack).toEqual({ topic: "chat", seq: expect.stringMatching(/^\d+-\d+$/) });
      await chat.until((f) => f.some((m) => m.seq === ack.seq), "its own message");
      expect(chat.frames.filter((m) => m.seq === ack.seq).map((m) => m.content)).toEqual(["from the client"]);
    });
  });
}
