/**
 * An in-band `subscribe` with `since` of a topic the socket is already on (SPEC §4: "`since`
 * replays every retained event after that offset"). It was acknowledged and did nothing: the
 * client that asked for the entries after `since` never got them and was not told (found in
 * review of the client's unsubscribe race). Now it replays from `since` again, after the ack, while
 * messages are being published: after the ack, exactly the entries after `since`, in order, then
 * live; before it, only what the old subscription had delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const isChat = (f: any) => f?.topic === "chat" && f.op === undefined;

describe.each(MODES)("WS subscribe with since of a topic already subscribed ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer(mode.env(uniquePrefix("ws-resub")));
  });
  afterAll(() => app.stop());

  it("replays after since again, after the ack, with publishes in flight: none lost, none twice, in order", async () => {
    const publisher = wsClient(wsUrl(app, "/ws?topics="));
    const client = wsClient(wsUrl(app, "/ws?topics=chat"));
    await Promise.all([publisher.opened, client.opened]);
    const acks = () => publisher.frames.filter((f: any) => f.op === "ack" && String(f.ref).startsWith("m-")) as { seq: string }[];
    const publish = (from: number, to: number) => {
      for (let i = from; i < to; i++) publisher.send({ op: "publish", topic: "chat", data: { content: `m-${i}` }, ref: `m-${i}` });
    };
    publish(0, 40);
    await publisher.collect(40, (f) => f.op === "ack" && String(f.ref).startsWith("m-"));
    await client.next((f) => isChat(f) && f.seq === acks()[39]!.seq, 5000);
    // Resubscribe from the 10th entry while 40 more are being published.
    publish(40, 80);
    client.send({ op: "subscribe", topic: "chat", since: acks()[9]!.seq, ref: "again" });
    await publisher.collect(80, (f) => f.op === "ack" && String(f.ref).startsWith("m-"));
    const all = acks().map((a) => a.seq);
    expect(all).toEqual([...all].sort(compareSeq));
    await client.next((f) => isChat(f) && f.seq === all[79], 5000);

    const ack = client.frames.findIndex((f: any) => f.op === "ack" && f.ref === "again");
    expect(ack).toBeGreaterThan(-1);
    const before = client.frames
      .slice(0, ack)
      .filter(isChat)
      .map((f: any) => f.seq as string);
    const after = client.frames
      .slice(ack + 1)
      .filter(isChat)
      .map((f: any) => f.seq as string);
    expect(before).toEqual(all.slice(0, before.length)); // the old subscription, up to the ack
    expect(after).toEqual(all.slice(10)); // everything after since, once, in order
    expect(client.frames.filter((f: any) => f.op === "error" || f.op === "recovered")).toEqual([]);
    publisher.close();
    client.close();
  });

  it("answers a resubscribe the replay allowance refuses with an error and keeps the live subscription", async () => {
    const client = wsClient(wsUrl(app, "/ws?topics=chat"));
    await client.opened;
    // REPLAY_BURST (10) resubscribes are allowed at once; the next are refused.
    for (let i = 0; i < 14; i++) client.send({ op: "subscribe", topic: "chat", since: "1-1", ref: `r${i}` });
    const answers = await client.collect(14, (f) => (f.op === "ack" || f.op === "error") && String(f.ref).startsWith("r"), 5000);
    const refused = answers.filter((f: any) => f.op === "error");
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((f: any) => f.code === "rate_limited" && f.topic === "chat")).toBe(true);
    const res = await fetch(`${app.url}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content: "still live" }),
    });
    const { seq } = (await res.json()) as { seq: string };
    await client.next((f) => isChat(f) && f.seq === seq, 5000);
    client.close();
  });
});
