/**
 * The seed's manual flow (redis-stream-relay README, steps 7–9), against `bun src/main.ts` as a
 * user would run it, with a plain WebSocket and nothing tickwire-specific: connect a manager,
 * connect a broadcaster, send from the manager, see the same text on the broadcaster.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { type ChildServer, MODES, spawnServer, uniquePrefix } from "./support/server.ts";

/** Opens a plain WebSocket and records its text frames; `until` resolves once `n` have come. */
function plainSocket(url: string) {
  const ws = new WebSocket(url);
  const received: string[] = [];
  const waiters: (() => void)[] = [];
  ws.onmessage = (e) => {
    received.push(String(e.data));
    for (const w of waiters.splice(0)) w();
  };
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`could not connect to ${url}`));
  });
  const until = (n: number) =>
    new Promise<string[]>((resolve) => {
      const check = () => (received.length >= n ? resolve(received.slice()) : void waiters.push(check));
      check();
    });
  return { ws, received, opened, until };
}

describe.each(MODES)("the seed's manager → broadcaster flow ($name)", (mode) => {
  let server: ChildServer | undefined;
  afterAll(async () => {
    server?.proc.kill();
    await server?.exited;
  });

  it("shows the text a manager sends on a broadcaster, unchanged, with no other frame", async () => {
    server = await spawnServer(mode.env(uniquePrefix("relay-seed")));
    const base = server.url.replace(/^http/, "ws");
    const manager = plainSocket(`${base}/ws/manager`);
    const broadcaster = plainSocket(`${base}/ws/broadcaster`);
    await Promise.all([manager.opened, broadcaster.opened]);

    manager.ws.send("hello from the manager tab");
    expect(await broadcaster.until(1)).toEqual(["hello from the manager tab"]);
    manager.ws.send('{"any":"text, even JSON, goes through as is"}');
    expect(await broadcaster.until(2)).toEqual(["hello from the manager tab", '{"any":"text, even JSON, goes through as is"}']);
    // The manager is told each message was stored.
    const acks = (await manager.until(2)).map((t) => JSON.parse(t));
    expect(acks.map((a) => a.op)).toEqual(["ack", "ack"]);
    manager.ws.close();
    broadcaster.ws.close();
  });
});
