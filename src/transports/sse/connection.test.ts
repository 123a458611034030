import { describe, expect, it } from "bun:test";
import type { HubMetrics } from "../../core/hub-metrics.ts";
import { SseConnection } from "./connection.ts";

/** A direct-stream controller that keeps up until `backUp()`, then returns one promise per stretch. */
function fakeWriter() {
  const written: string[] = [];
  let pending: { promise: Promise<number>; resolve: (n: number) => void } | undefined;
  let gone = false;
  const writer = {
    write(data: string | Uint8Array) {
      written.push(typeof data === "string" ? data : new TextDecoder().decode(data));
      if (gone) return 0;
      return pending ? pending.promise : data.length;
    },
    flush() {},
    close() {},
  };
  return {
    writer: writer as unknown as ReadableStreamDirectController,
    written,
    backUp() {
      let resolve!: (n: number) => void;
      pending = { promise: new Promise<number>((r) => (resolve = r)), resolve };
    },
    drain() {
      pending?.resolve(0);
      pending = undefined;
    },
    leave() {
      gone = true;
    },
  };
}

function setup(queueBytes = 64) {
  const drops: [string, string][] = [];
  const metrics: HubMetrics = { published() {}, delivered() {}, fanoutLatency() {}, dropped: (f, r) => void drops.push([f, r]) };
  let cleanups = 0;
  const conn = new SseConnection(metrics, queueBytes, () => cleanups++);
  const w = fakeWriter();
  conn.bind(w.writer);
  return { conn, w, drops, cleanups: () => cleanups };
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe("SseConnection", () => {
  it("writes events straight through while the socket keeps up", () => {
    const { conn, w } = setup();
    conn.send(bytes("id: 1-1\ndata: {}\n\n"), false, "chat");
    conn.send(bytes("id: 2-0\ndata: {}\n\n"), true, "cron");
    expect(w.written).toEqual(["id: 1-1\ndata: {}\n\n", "id: 2-0\ndata: {}\n\n"]);
    expect(conn.backlog).toBe(0);
  });

  it("drops ephemeral events while backed up, queues durable ones, and ends with overflow past the limit", () => {
    const { conn, w, drops, cleanups } = setup(40);
    w.backUp();
    conn.send(bytes("x".repeat(10)), false, "chat"); // starts the backed-up stretch
    expect(conn.backlog).toBe(10);
    conn.send(bytes("tick"), true, "cron");
    conn.send(bytes("y".repeat(20)), false, "chat");
    expect(conn.backlog).toBe(30);
    conn.send(bytes("z".repeat(20)), false, "chat");
    expect(drops).toEqual([
      ["cron", "backpressure"],
      ["chat", "overflow"],
    ]);
    expect(w.written.at(-1)).toStartWith("event: overflow\n");
    expect(conn.closed).toBe(true);
    expect(cleanups()).toBe(1);
  });

  it("queues another topic's copy of the entry just written past the limit, so a resume from its id misses no copy", () => {
    const { conn, w, drops } = setup(40);
    w.backUp();
    conn.send(bytes("x".repeat(10)), false, "chat", "4-1");
    conn.send(bytes("a".repeat(25)), false, "timers", "5-1"); // timer:<id>'s copy: fits
    conn.send(bytes("b".repeat(25)), false, "timers", "5-1"); // session:<sid>'s copy of the same entry
    expect({ closed: conn.closed, backlog: conn.backlog, drops }).toEqual({ closed: false, backlog: 60, drops: [] });
    conn.send(bytes("c".repeat(5)), false, "timers", "6-1"); // the next entry does not fit
    expect({ closed: conn.closed, drops, last: w.written.at(-1)?.slice(0, 15) }).toEqual({
      closed: true,
      drops: [["timers", "overflow"]],
      last: "event: overflow",
    });
  });

  it("writes a run of events in one write while it keeps up, and each under the policy once backed up", () => {
    const { conn, w, drops } = setup(40);
    const events = [bytes("a".repeat(10)), bytes("tick")].map((chunk, i) => ({ chunk, ephemeral: i === 1, seq: `${i + 1}-1` }));
    const run = { bytes: bytes(`${"a".repeat(10)}tick`), events };
    conn.sendRun(run, "chat");
    expect(w.written).toEqual([`${"a".repeat(10)}tick`]);
    w.backUp();
    conn.send(bytes("b"), false, "chat"); // starts the backed-up stretch
    conn.sendRun(run, "chat");
    expect(w.written.slice(1)).toEqual(["b", "a".repeat(10)]);
    expect(drops).toEqual([["chat", "backpressure"]]);
  });

  it("gives a tick its own id after the stream's durable position, on a stream with durable topics only", () => {
    const tick = bytes('id: 9000-0\ndata: {"topic":"cron","seq":"9000-0"}\n\n');
    const ticksOnly = setup(4096);
    ticksOnly.conn.sendTick(tick, "9000-0", "cron");
    expect(ticksOnly.w.written).toEqual(['id: 9000-0\ndata: {"topic":"cron","seq":"9000-0"}\n\n']);
    const { conn, w } = setup(4096);
    conn.startAt("100-2.5");
    conn.sendTick(tick, "9000-0", "cron");
    conn.send(bytes("id: 200-1\ndata: {}\n\n"), false, "chat", "200-1");
    conn.sendTick(tick, "9000-0", "cron");
    expect(w.written).toEqual([
      'id: 100-2.9000000\ndata: {"topic":"cron","seq":"9000-0"}\n\n',
      "id: 200-1\ndata: {}\n\n",
      'id: 200-1.9000000\ndata: {"topic":"cron","seq":"9000-0"}\n\n',
    ]);
  });

  it("gives an ephemeral frame after an older position than the stream has sent the stream's position as id", () => {
    const { conn, w } = setup(4096);
    conn.startAt("300-1");
    conn.send(bytes('id: 100-1.77\ndata: {"seq":"100-1.77"}\n\n'), true, "timer", "100-1.77");
    conn.send(bytes('id: 300-1.78\ndata: {"seq":"300-1.78"}\n\n'), true, "chat", "300-1.78");
    expect(w.written).toEqual(['id: 300-1.77\ndata: {"seq":"100-1.77"}\n\n', 'id: 300-1.78\ndata: {"seq":"300-1.78"}\n\n']);
  });

  it("resumed from a tick's seq or a bare <ms>, sends that offset as is until a durable event (a tick's mark, a valid seq)", () => {
    const tick = bytes('id: 9000-0\ndata: {"topic":"cron","seq":"9000-0"}\n\n');
    for (const since of ["8000-0", "8000"]) {
      const { conn, w } = setup(4096);
      conn.startAt(since, true);
      conn.sendTick(tick, "9000-0", "cron");
      conn.send(bytes('id: 100-1.77\ndata: {"seq":"100-1.77"}\n\n'), true, "timer", "100-1.77");
      conn.send(bytes("id: 7990-1\ndata: {}\n\n"), false, "chat", "7990-1");
      conn.sendTick(tick, "9000-0", "cron");
      expect(w.written.map((t) => t.slice(0, t.indexOf("\n")))).toEqual([`id: ${since}`, `id: ${since}`, "id: 7990-1", "id: 7990-1.9000000"]);
    }
    // Not the stream's own start at a position (an epoch's `<ms>-0`): that one gets its counter.
    const { conn, w } = setup(4096);
    conn.startAt("8000-0");
    conn.sendTick(tick, "9000-0", "cron");
    expect(w.written[0]).toStartWith("id: 8000-0.9000000\n");
  });

  it("skips pings while backed up, and overflows rather than queue control events past the limit", () => {
    const { conn, w, cleanups } = setup(40);
    conn.ping(": ping\n\n");
    w.backUp();
    conn.send(bytes("x".repeat(30)), false, "chat"); // starts the backed-up stretch
    for (let i = 0; i < 2; i++) conn.ping(": ping\n\n");
    expect(conn.backlog).toBe(30);
    conn.writeText("event: recovered\ndata: {}\n\n");
    expect(w.written.slice(2)).toEqual([expect.stringMatching(/^event: overflow\n/)]);
    expect(conn.closed).toBe(true);
    expect(cleanups()).toBe(1);
  });

  it("ends a stream backed up through 3 pings in a row (a reader that stopped), counting from its last drain", async () => {
    const { conn, w, cleanups } = setup(4096);
    const tick = bytes("id: 1000-0\ndata: {}\n\n");
    w.backUp();
    conn.sendTick(tick, "1000-0", "cron"); // ticks only: nothing would ever overflow it
    conn.ping(": ping\n\n");
    conn.ping(": ping\n\n");
    w.drain(); // it read: a new count
    await Promise.resolve();
    await Promise.resolve();
    w.backUp();
    conn.sendTick(tick, "2000-0", "cron");
    conn.ping(": ping\n\n");
    conn.ping(": ping\n\n");
    expect(conn.closed).toBe(false);
    conn.ping(": ping\n\n");
    expect(conn.closed).toBe(true);
    expect(w.written.at(-1)).toStartWith("event: overflow\n");
    expect(cleanups()).toBe(1);
  });

  it("counts nothing once the backed-up stretch has drained", async () => {
    const { conn, w } = setup();
    w.backUp();
    conn.send(bytes("abc"), false, "chat");
    w.drain();
    // The drain promise settles in a microtask: let its handler run.
    await Promise.resolve();
    await Promise.resolve();
    expect(conn.backlog).toBe(0);
  });

  it("cleans up once when the client has gone, whichever way it shows", () => {
    const { conn, w, cleanups } = setup();
    w.leave();
    conn.send(bytes("abc"), false, "chat");
    conn.abandon();
    conn.close();
    expect(conn.closed).toBe(true);
    expect(cleanups()).toBe(1);
  });
});
