/**
 * `/ws/manager` answers every frame in frame order, a token refresh op included, in both storage
 * modes: a manager matches replies to its messages by order only, so a refresh's ack sent ahead
 * of an earlier message's ack would be taken for that message's (found by review: the server
 * answered refresh ops outside the manager's reply chain), a refresh refused by
 * `WS_OPS_PER_SECOND` too (it got one early error and then no reply at all).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const isReply = (f: any) => f?.op === "ack" || f?.op === "error";

describe.each(MODES)("relay manager reply order around a refresh op ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ ...mode.env(uniquePrefix("relay-refresh-order")), WS_PUBLISHES_PER_SECOND: "100000", WS_OPS_PER_SECOND: "2" });
  });
  afterAll(() => app.stop());

  it("answers m1, a refresh op and m2 in that order", async () => {
    const manager = wsClient(wsUrl(app, "/ws/manager"));
    await manager.opened;
    manager.send("m1");
    manager.send('{"op":"refresh","ref":"r"}');
    manager.send("m2");
    const replies = await manager.collect(3, isReply);
    expect(replies[0]).toMatchObject({ op: "ack", seq: expect.any(String) });
    expect(replies[1]).toEqual({ op: "ack", ref: "r", auth: "off" });
    expect(replies[2]).toMatchObject({ op: "ack", seq: expect.any(String) });
    manager.close();
  });

  it("answers a refresh refused by WS_OPS_PER_SECOND rate_limited in its turn, each one", async () => {
    const manager = wsClient(wsUrl(app, "/ws/manager"));
    await manager.opened;
    manager.send("m1");
    // Two a second pass, the next two are refused (past four the socket would be closed).
    for (const ref of ["r1", "r2", "r3", "r4"]) manager.send(`{"op":"refresh","ref":"${ref}"}`);
    manager.send("m2");
    await manager.collect(2, (f) => f?.op === "ack" && f.seq !== undefined);
    const rateLimited = { op: "error", code: "rate_limited", message: expect.stringContaining("WS_OPS_PER_SECOND") };
    expect(manager.frames.filter(isReply)).toEqual([
      { op: "ack", seq: expect.any(String) },
      { op: "ack", ref: "r1", auth: "off" },
      { op: "ack", ref: "r2", auth: "off" },
      { ...rateLimited, ref: "r3" },
      { ...rateLimited, ref: "r4" },
      { op: "ack", seq: expect.any(String) },
    ]);
    manager.close();
  });
});
