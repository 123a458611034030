/**
 * The client against a server that keeps refusing (found by review, 2026-12-04):
 * - a subscribe acked, then its replay failed (`replay_failed` drops the socket) or refused
 *   (`replay_busy`, resubscribed): the ack reset the backoff, so the client came back at the
 *   first delay forever, re-resuming every topic while the store struggled;
 * - over SSE a 400 (a bad topic) was retried forever, with no onError (WebSocket gave one);
 * - a publish waiting for a connection outlived close() by its timeout, every timed-out one was
 *   kept until the next open, and every fired retry timer for the socket's lifetime.
 */
import { heapStats } from "bun:jsc";
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { type ConnectionState, connect, type StateDetail } from "../packages/client/src/index.ts";
import { ReplayRefusedError } from "../src/core/replay-limits.ts";
import type { Tickwire } from "../src/main.ts";
import { freePort } from "./support/dedicated-redis.ts";
import { startServer } from "./support/server.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { until } from "./support/until.ts";

let app: Tickwire;
/** How the server's history reads fail. */
let failing: "unavailable" | "busy" | "no" = "unavailable";
let reads: number[] = [];
beforeAll(async () => {
  app = await startServer({ REPLAY_RATE: "10000", REPLAY_BURST: "10000", WS_OPS_PER_SECOND: "100000" });
  await fetch(`${app.url}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content: "one" }) });
  const log = app.ctx.hub.log as unknown as Record<string, (...args: unknown[]) => unknown>;
  const [readRecent, readAfter] = [log.readRecent?.bind(log), log.readAfter!.bind(log)];
  log.readRecent = (...args) => (failing === "no" ? readRecent?.(...args) : undefined);
  log.readAfter = async (...args) => {
    if (failing === "no") return readAfter(...args);
    reads.push(performance.now());
    if (failing === "busy") throw new ReplayRefusedError("replay_busy", "busy; retry shortly");
    throw new Error("history store unavailable");
  };
});
afterAll(() => app?.stop());

const timeouts = () => {
  Bun.gc(true);
  return (heapStats().objectTypeCounts as Record<string, number>).Timeout ?? 0;
};

describe("backoff after a subscribe ack", () => {
  it("grows while every resume's replay fails", async () => {
    failing = "unavailable";
    const client = connect(app.url, { transport: "websocket", backoff: { initialMs: 10, maxMs: 640 }, pingIntervalMs: 0 });
    const drops: StateDetail[] = [];
    client.onState((s, d) => void (s === "disconnected" && drops.push(d)));
    client.subscribe("chat", { since: "0-0", onMessage: () => {} });
    await until(() => drops.length >= 8, { message: () => `8 drops, got ${drops.length}` });
    client.close();
    // 10, 20, 40 … 640 ms steps, each delay between half and all of its step.
    expect(Math.max(...drops.slice(0, 8).map((d) => d.retryInMs ?? 0))).toBeGreaterThan(100);
  });

  it("grows while every resubscribe's replay is refused, on one socket, keeping no fired timer", async () => {
    failing = "busy";
    reads = [];
    const client = connect(app.url, { transport: "websocket", backoff: { initialMs: 10, maxMs: 640 }, pingIntervalMs: 0 });
    client.subscribe("chat", { since: "0-0", onMessage: () => {} });
    await until(() => reads.length >= 8, { message: () => `8 replay attempts, got ${reads.length}` });
    client.close();
    const gaps = reads.slice(1, 8).map((t, i) => t - reads[i]!);
    expect(Math.max(...gaps)).toBeGreaterThan(100);

    const fast = connect(app.url, { transport: "websocket", backoff: { initialMs: 1, maxMs: 1 }, pingIntervalMs: 0 });
    const states: ConnectionState[] = [];
    fast.onState((s) => void states.push(s));
    fast.subscribe("chat", { since: "0-0", onMessage: () => {} });
    await until(() => reads.length >= 108, { message: "100 replays" });
    const base = timeouts();
    const r0 = reads.length;
    await until(() => reads.length >= r0 + 1000, { message: () => `1000 more replays, ${reads.length - r0}`, timeoutMs: 20_000 });
    const grown = timeouts() - base;
    fast.close();
    expect(states.filter((s) => s === "connected")).toHaveLength(1);
    expect(grown).toBeLessThan(100);
  }, 30_000);
});

it("starts over after a quiet socket that lasted maxMs (no frame, no ping)", async () => {
  failing = "no";
  const proxy = await TcpProxy.start(app.port);
  const client = connect(`http://127.0.0.1:${proxy.port}`, { transport: "websocket", backoff: { initialMs: 10, maxMs: 100 }, pingIntervalMs: 0 });
  const states: [ConnectionState, StateDetail][] = [];
  client.onState((s, d) => void states.push([s, d]));
  client.subscribe("presence:quiet", { onMessage: () => {} });
  try {
    for (let drop = 1; drop <= 5; drop++) {
      await until(() => states.filter(([s]) => s === "connected").length === drop, { message: `connection ${drop}` });
      const at = Date.now();
      await until(() => Date.now() - at > 150, { message: "the socket to last past maxMs" });
      proxy.cut();
      proxy.restore();
    }
    await until(() => states.filter(([s]) => s === "disconnected").length >= 5);
  } finally {
    client.close();
    proxy.stop();
  }
  // Each socket lasted past maxMs: every retry is drawn from the first step (5–10 ms), not 10, 20, 40 …
  const delays = states.filter(([s]) => s === "disconnected").map(([, d]) => d.retryInMs ?? 0);
  expect(Math.max(...delays.slice(0, 5))).toBeLessThanOrEqual(10);
});

for (const transport of ["websocket", "sse"] as const) {
  it(`${transport}: a subscription the server refuses as invalid ends with onError, not retried`, async () => {
    const client = connect(app.url, { transport, backoff: { initialMs: 20, maxMs: 50 }, pingIntervalMs: 0 });
    const errors: { code?: string }[] = [];
    const refusals: StateDetail[] = [];
    client.onState((s, d) => void (s === "disconnected" && d.code !== undefined && refusals.push(d)));
    client.subscribe("bad topic!", { onMessage: () => {}, onError: (e) => void errors.push(e as { code?: string }) });
    try {
      await until(() => errors.length > 0 || refusals.length >= 20);
    } finally {
      client.close();
    }
    expect(errors).toHaveLength(1);
    expect(refusals.length).toBeLessThanOrEqual(1);
  });
}

describe("publishes while disconnected", () => {
  it("close() settles one still waiting for the connection", async () => {
    const client = connect(`http://127.0.0.1:${freePort()}`, { transport: "websocket", requestTimeoutMs: 60_000, backoff: { initialMs: 20, maxMs: 50 } });
    // Without close() settling it, it would wait out the minute (the test's own timeout first).
    const outcome = client.publish("chat", { content: "x" }).then(
      () => "resolved",
      (e: { code?: string }) => e.code,
    );
    client.close();
    expect(await outcome).toBe("not_connected");
  });

  it("timed out, leave nothing behind", async () => {
    const client = connect(`http://127.0.0.1:${freePort()}`, { transport: "websocket", requestTimeoutMs: 5, backoff: { initialMs: 1000, maxMs: 1000 } });
    const n = 5000;
    const round = () => Promise.all(Array.from({ length: n }, () => client.publish("chat", { content: "x" }).catch(() => {})));
    await round();
    const before = timeouts();
    await round();
    const after = timeouts();
    client.close();
    expect(after - before).toBeLessThan(n / 10);
  });
});
