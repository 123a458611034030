/**
 * A topic with no entry yet: the `subscribe` ack's position (before any entry: its epoch's start,
 * `<ms>-0`) resumes without `recovered:false` and replays what was posted meanwhile. It was
 * `0-0`, older than the epoch that acking it created, so an idle client that reconnected before
 * the first message was told to reload (found in review; embedded mode). Redis mode: see
 * offsets-fresh-topic-redis.test.ts (a never-written stream gets a fresh epoch at start).
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { MYSQL_URL, startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const dir = mkdtempSync(`${tmpdir()}/tickwire-fresh-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const variants = [
  { name: "embedded memory", env: { DATABASE_URL: "sqlite::memory:" } },
  { name: "embedded file", env: { DATABASE_URL: `sqlite:${dir}/fresh.db` } },
  { name: "mysql, no redis", env: { DATABASE_URL: MYSQL_URL } },
];

describe.each(variants)("resume from a fresh topic's ack position ($name)", ({ env }) => {
  it("replays what was posted meanwhile, with no reload", async () => {
    const app = await startServer(env);
    try {
      const a = wsClient(wsUrl(app, "/ws"));
      await a.opened;
      a.send({ op: "subscribe", topic: "chat", ref: 1 });
      const ack = await a.next((f) => f.op === "ack" && f.ref === 1);
      a.close();
      const res = await fetch(`${app.url}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ content: "meanwhile" }),
      });
      expect(res.status).toBe(201);
      const b = wsClient(wsUrl(app, "/ws"));
      await b.opened;
      b.send({ op: "subscribe", topic: "chat", since: ack.seq, ref: 2 });
      const first = await b.next((f) => (f.op === undefined && f.topic === "chat") || f.op === "recovered");
      b.close();
      expect({ op: first.op, content: first.content }).toEqual({ op: undefined, content: "meanwhile" });
    } finally {
      await app.stop();
    }
  });
});
