/**
 * `GET /messages?since=&limit=` in Redis mode after `HISTORY_SIZE` was lowered: the stream still
 * holds the entries written under the larger size (`MAXLEN ~` trims only on append), and a page
 * is short of its limit only at the real end, so a client paging forward until a short page
 * gets every message, each page `recovered:true`.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { connectRedis } from "../src/infra/redis/client.ts";
import { silentLogger } from "../src/log.ts";
import type { Tickwire } from "../src/main.ts";
import { REDIS_URL, startServer, uniquePrefix } from "./support/server.ts";

type Page = { messages: { seq: string; content: string }[]; recovered: boolean };

const prefix = uniquePrefix("histcap");
const apps: Tickwire[] = [];

afterAll(async () => {
  for (const app of apps) await app.stop();
  const client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "test" });
  const keys = await client.sendCommand<string[]>(["KEYS", `${prefix}:*`]);
  if (keys.length > 0) await client.sendCommand(["DEL", ...keys]);
  client.destroy();
});

const start = async (historySize: number): Promise<Tickwire> => {
  const app = await startServer({ REDIS_URL, STREAM_PREFIX: prefix, HISTORY_SIZE: String(historySize) });
  apps.push(app);
  return app;
};

describe("GET /messages paging after HISTORY_SIZE was lowered (Redis)", () => {
  it("fills every page up to its limit until the real end", async () => {
    const writer = await start(1000);
    const seqs: string[] = [];
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${writer.url}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ content: `m${i}`, user: "u" }),
      });
      expect(res.status).toBe(201);
      seqs.push(((await res.json()) as { seq: string }).seq);
    }
    await writer.stop();
    apps.splice(apps.indexOf(writer), 1);

    const reader = await start(10);
    const limit = 200;
    const pages: Page[] = [];
    let since = seqs[0]!;
    for (;;) {
      const res = await fetch(`${reader.url}/messages?since=${encodeURIComponent(since)}&limit=${limit}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      pages.push(page);
      if (page.messages.length < limit || pages.length > 5) break;
      since = page.messages.at(-1)!.seq;
    }
    expect(pages.map((p) => p.messages.length)).toEqual([200, 99]);
    expect(pages.flatMap((p) => p.messages.map((m) => m.seq))).toEqual(seqs.slice(1));
    expect(pages.every((p) => p.recovered)).toBe(true);
  });
});
