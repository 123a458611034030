/**
 * Issue #20, `@tickwire/client` across server crashes:
 * - `kill -9` of the server (a child process) while a publisher sends, and a start on the same
 *   port, in both storage modes (embedded: the SQLite file keeps the log): every message whose
 *   publish was acked reaches the subscribing application exactly once, with no `onRecovered`;
 *   a publish cut off by the crash rejects `outcome_unknown` and shows up at most once;
 * - a Redis restarted WITHOUT persistence (a dedicated one): the acked messages it lost are
 *   announced by `onRecovered({ recovered: false })`, and nothing is seen twice.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChatFrame, type Client, TickwireError } from "../packages/client/src/index.ts";
import { checkDelivery, recorder } from "./support/client-recorder.ts";
import { clientOpener } from "./support/clients.ts";
import { DedicatedRedis, freePort } from "./support/dedicated-redis.ts";
import { type ChildServer, MYSQL_URL, REDIS_URL, spawnServer, startServer, uniquePrefix } from "./support/server.ts";
import { until } from "./support/until.ts";

const FAST = { backoff: { initialMs: 20, maxMs: 250 }, pingIntervalMs: 200, requestTimeoutMs: 1000 };
const dir = mkdtempSync(join(tmpdir(), "tw-client-restart-"));
const open = clientOpener(FAST);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Publishes `chat` messages one after another until `stop()`; records which were acked and which had an unknown outcome. */
function publisher(client: Client) {
  const acked: string[] = [];
  const unknown: string[] = [];
  let running = true;
  let i = 0;
  const done = (async () => {
    while (running) {
      const content = `m-${i++}`;
      try {
        await client.publish("chat", { content });
        acked.push(content);
      } catch (error) {
        expect(error).toBeInstanceOf(TickwireError);
        if ((error as TickwireError).code === "outcome_unknown") unknown.push(content);
      }
    }
  })();
  return {
    acked,
    unknown,
    async stop() {
      running = false;
      await done;
    },
  };
}

const ENVS = [
  { name: "embedded", env: () => ({ DATABASE_URL: `sqlite:${join(dir, `log-${Date.now()}.db`)}` }) },
  { name: "mysql+redis", env: () => ({ DATABASE_URL: MYSQL_URL, REDIS_URL, STREAM_PREFIX: uniquePrefix("client-kill") }) },
];

for (const mode of ENVS) {
  describe(`@tickwire/client across kill -9 of the server (${mode.name})`, () => {
    const servers: ChildServer[] = [];
    afterAll(async () => {
      for (const s of servers) s.proc.kill(9);
    });

    it("every acked message reaches the subscriber exactly once; nothing needs recovering", async () => {
      const port = freePort();
      const env = { ...mode.env(), PORT: String(port), WS_PUBLISHES_PER_SECOND: "100000" };
      const first = await spawnServer(env);
      servers.push(first);
      const url = `http://127.0.0.1:${port}`;
      const sub = open(url);
      const chat = recorder<ChatFrame>();
      sub.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      const pub = publisher(open(url));
      await until(() => pub.acked.length >= 30, { message: "30 acked publishes" });

      first.proc.kill(9);
      await first.exited;
      await until(() => sub.state === "disconnected", { message: "the subscriber to see the crash" });
      servers.push(await spawnServer(env));
      const ackedBefore = pub.acked.length;
      await until(() => pub.acked.length >= ackedBefore + 30, { message: "30 more acked publishes after the restart" });
      await pub.stop();

      const seen = () => chat.frames.map((f) => f.content);
      await chat.until(() => pub.acked.every((m) => seen().includes(m)), "every acked message");
      checkDelivery(seen(), pub.acked, chat.recovered);
      expect(chat.recovered).toEqual([]);
      // A publish the crash cut off was stored or not; either way it is seen at most once.
      for (const m of pub.unknown) expect(seen().filter((s) => s === m).length).toBeLessThanOrEqual(1);
      // Delivered in publish order (the publisher waited for each ack).
      const order = pub.acked.map((m) => seen().indexOf(m));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });
  });
}

describe("@tickwire/client across a Redis restarted without persistence (dedicated)", () => {
  const redis = new DedicatedRedis(freePort());
  afterAll(async () => {
    await redis.dispose();
  });

  it("the lost messages are announced with onRecovered(recovered:false); none is seen twice", async () => {
    await redis.start();
    const app = await startServer({
      REDIS_URL: redis.url,
      STREAM_PREFIX: uniquePrefix("client-redis"),
      DATABASE_URL: "sqlite::memory:",
      WS_PUBLISHES_PER_SECOND: "100000",
    });
    try {
      const sub = open(app.url);
      const chat = recorder<ChatFrame>();
      sub.subscribe("chat", chat.handlers);
      await chat.subscribedAtLeast(1);
      const pub = publisher(open(app.url));
      await until(() => pub.acked.length >= 20, { message: "20 acked publishes" });

      await redis.kill();
      await redis.start();
      await until(async () => (await fetch(`${app.url}/health`)).status === 200, { message: "/health 200 again", timeoutMs: 15_000 });
      const ackedBefore = pub.acked.length;
      await until(() => pub.acked.length >= ackedBefore + 20, { message: "20 acked publishes on the new Redis", timeoutMs: 15_000 });
      await pub.stop();
      const last = pub.acked.at(-1)!;
      await chat.until((f) => f.some((m) => m.content === last), "the last acked message");

      const seen = chat.frames.map((f) => f.content);
      checkDelivery(seen, pub.acked, chat.recovered);
      // The Redis came back empty (a new epoch): the subscriber was told, once per reset.
      expect(chat.recovered.length).toBeGreaterThanOrEqual(1);
      expect(chat.recovered[0]).toEqual({ topic: "chat", recovered: false, reason: expect.stringMatching(/^(server|epoch)$/) });
      // Everything acked on the new Redis arrived.
      for (const m of pub.acked.slice(ackedBefore)) expect(seen).toContain(m);
    } finally {
      await app.stop();
    }
  });
});
