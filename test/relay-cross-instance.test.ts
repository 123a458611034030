/**
 * Two tickwire instances on one Redis (same STREAM_PREFIX) act as one relay: a message sent to a
 * manager on either instance reaches broadcasters on both, every broadcaster sees one log order,
 * and a broadcaster can resume on one instance from a seq acknowledged by the other.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const redisMode = MODES.find((m) => m.name === "mysql+redis")!;
const isAck = (f: any) => f?.op === "ack";

describe("relay across two instances on one Redis", () => {
  let a: Tickwire;
  let b: Tickwire;
  const clients: WsTestClient[] = [];
  const connect = async (app: Tickwire, path: string) => {
    const c = wsClient(wsUrl(app, path));
    clients.push(c);
    await c.opened;
    return c;
  };

  beforeAll(async () => {
    const env = redisMode.env(uniquePrefix("relay-x"));
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("delivers every manager's messages to broadcasters on both instances in one order", async () => {
    const bcA = await connect(a, "/ws/broadcast");
    const bcB = await connect(b, "/ws/broadcaster");
    const mgrA = await connect(a, "/ws/manager");
    const mgrB = await connect(b, "/ws/manager");
    const per = 300;
    for (let i = 0; i < per; i++) {
      mgrA.send(`x-a-${i}`);
      mgrB.send(`x-b-${i}`);
    }
    const [acksA, acksB] = await Promise.all([mgrA.collect(per, isAck), mgrB.collect(per, isAck)]);
    const isX = (f: any) => typeof f === "string" && f.startsWith("x-");
    const [gotA, gotB] = await Promise.all([bcA.collect(per * 2, isX), bcB.collect(per * 2, isX)]);
    expect(gotB).toEqual(gotA);
    // Each instance's messages keep their manager's order within the shared stream.
    expect(gotA.filter((t) => t.startsWith("x-a-"))).toEqual(Array.from({ length: per }, (_, i) => `x-a-${i}`));
    expect(gotA.filter((t) => t.startsWith("x-b-"))).toEqual(Array.from({ length: per }, (_, i) => `x-b-${i}`));
    // The seqs both instances handed out are one sequence: the stream's ids.
    const seqs = new Set([...acksA, ...acksB].map((x) => x.seq));
    expect(seqs.size).toBe(per * 2);
  });

  it("resumes a broadcaster on instance B from a seq acknowledged on instance A, with no gap and no duplicate", async () => {
    const mgrA = await connect(a, "/ws/manager");
    const texts = Array.from({ length: 20 }, (_, i) => `hop-${i}`);
    for (const t of texts) mgrA.send(t);
    const acks = await mgrA.collect(20, isAck);
    const late = await connect(b, `/ws/broadcast?since=${acks[9].seq}`);
    mgrA.send("hop-live");
    const isHop = (f: any) => typeof f === "string" && f.startsWith("hop-");
    expect(await late.collect(11, isHop)).toEqual([...texts.slice(10), "hop-live"]);
    mgrA.send("hop-end");
    await late.next((f) => f === "hop-end");
    expect(late.raw.filter((t) => t.startsWith("hop-"))).toEqual([...texts.slice(10), "hop-live", "hop-end"]);
  });
});
