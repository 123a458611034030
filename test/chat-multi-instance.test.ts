/**
 * Several instances on one Redis act as one server: chat posted on either reaches SSE and WS
 * clients of both, in the same order, and a `kill -9` of an instance loses nothing it answered
 * 201 for. Instances share `STREAM_PREFIX`; their database (irrelevant to chat) stays embedded.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { REDIS_URL, spawnServer, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { wsClient } from "./support/ws-client.ts";

// Response bodies are checked by the assertions; typed loosely on purpose.
const anyJson = (v: unknown): any => v;

const post = (url: string, content: string) =>
  fetch(`${url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });

describe("chat across instances on one Redis", () => {
  const prefix = uniquePrefix("chat-multi");
  let a: Tickwire;
  let b: Tickwire;
  beforeAll(async () => {
    a = await startServer({ REDIS_URL, STREAM_PREFIX: prefix });
    b = await startServer({ REDIS_URL, STREAM_PREFIX: prefix });
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
  });

  it("delivers chat posted on either instance to SSE and WS clients of both, in one order", async () => {
    const sseA = await sseClient(`${a.url}/events`);
    const sseB = await sseClient(`${b.url}/events`);
    const wsA = wsClient(wsUrl(a, "/ws?topics=chat"));
    const wsB = wsClient(wsUrl(b, "/ws?topics=chat"));
    await Promise.all([wsA.opened, wsB.opened]);
    const total = 200;
    const answers = await Promise.all(Array.from({ length: total }, (_, i) => post(i % 2 ? a.url : b.url, `x${i}`).then((r) => r.json().then(anyJson))));
    const posted = new Set(answers.map((r) => r.seq as string));
    expect(posted.size).toBe(total);
    const orders = [
      (await sseA.collect(total)).map((e) => e.json.seq),
      (await sseB.collect(total)).map((e) => e.json.seq),
      (await wsA.collect(total, (f) => f.topic === "chat")).map((f) => f.seq),
      (await wsB.collect(total, (f) => f.topic === "chat")).map((f) => f.seq),
    ];
    expect(new Set(orders[0]!)).toEqual(posted);
    for (const order of orders) expect(order).toEqual(orders[0]!);
    sseA.close();
    sseB.close();
    wsA.close();
    wsB.close();
  });

  it("loses nothing an instance answered 201 for when it is killed with -9 mid-traffic", async () => {
    const child = await spawnServer({ REDIS_URL, STREAM_PREFIX: prefix, LOG_LEVEL: "warn" });
    const watcher = await sseClient(`${b.url}/events`);
    const accepted: string[] = [];
    let failures = 0;
    // Each worker posts until the killed instance stops answering.
    const worker = async (w: number) => {
      for (let i = 0; ; i++) {
        try {
          const res = await post(child.url, `k${w}-${i}`);
          if (res.status === 201) accepted.push((await res.json().then(anyJson)).seq);
        } catch {
          failures++;
          return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await watcher.collect(150);
    child.proc.kill(9);
    await child.exited;
    await Promise.all(workers);
    expect(failures).toBeGreaterThan(0);
    // 150 were stored; a worker's last answer may have died with the process.
    expect(accepted.length).toBeGreaterThanOrEqual(150 - workers.length);
    // Every accepted message reaches B's subscribers and B's history.
    const delivered = await watcher.collect(accepted.length, undefined, 15_000);
    const seen = new Set(watcher.events.map((e) => e.id));
    expect(accepted.filter((s) => !seen.has(s))).toEqual([]);
    expect(new Set(delivered.map((e) => e.id)).size).toBe(delivered.length);
    const history = await (await fetch(`${b.url}/messages?limit=1000`)).json().then(anyJson);
    const stored = new Set(history.messages.map((m: any) => m.seq));
    expect(accepted.filter((s) => !stored.has(s))).toEqual([]);
    watcher.close();
  });
});
