/**
 * The seed's manual flow (redis-stream-relay README, steps 7–9), against `bun src/main.ts` as a
 * user would run it, with a plain WebSocket and nothing tickwire-specific: connect a manager,
 * connect a broadcaster, send from the manager, see the same text on the broadcaster.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { type ChildServer, MODES, spawnServer, uniquePrefix } from "./support/server.ts";
import { until } from "./support/until.ts";

/** Opens a plain WebSocket and records its text frames. */
function plainSocket(url: string) {
  const ws = new WebSocket(url);
  const received: string[] = [];
  ws.onmessage = (e) => void received.push(String(e.data));
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`could not connect to ${url}`));
  });
  return { ws, received, opened };
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

    // Everything a socket received once it has `n` frames.
    const framesOf = (socket: { received: string[] }, n: number, what: string) =>
      until(() => socket.received.length >= n && socket.received.slice(), { message: () => `${n} frames on the ${what} (got ${socket.received.length})` });
    manager.ws.send("hello from the manager tab");
    expect(await framesOf(broadcaster, 1, "broadcaster")).toEqual(["hello from the manager tab"]);
    manager.ws.send('{"any":"text, even JSON, goes through as is"}');
    expect(await framesOf(broadcaster, 2, "broadcaster")).toEqual(["hello from the manager tab", '{"any":"text, even JSON, goes through as is"}']);
    // The manager is told each message was stored.
    const acks = (await framesOf(manager, 2, "manager")).map((t) => JSON.parse(t));
    expect(acks.map((a) => a.op)).toEqual(["ack", "ack"]);
    manager.ws.close();
    broadcaster.ws.close();
  });
});
