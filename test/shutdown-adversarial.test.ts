/**
 * Graceful shutdown and start, adversarially, against a real child process (`bun src/main.ts`)
 * in both storage modes:
 * - SIGTERM under load (HTTP posts, `/ws` publish ops, `/ws/manager` frames, timer changes):
 *   every write answered with a success is stored after a restart on the same storage; the ones
 *   in flight get an error or a closed connection (outcome unknown), never a hang.
 * - SIGTERM while clients replay a long history (one of them stalled) and SSE streams resume: the
 *   process exits at once; WebSockets get 1001 and SSE streams end, without an overflow.
 * - A second SIGTERM and a SIGINT during the drain: one shutdown, exit 0, the database closed.
 * - A start against an unreachable Redis, MySQL or SQLite file exits 1 with one fatal line
 *   naming it, and never listens. (A Redis that refused or never answered the first connect
 *   used to leave the process waiting forever, neither listening nor exiting.)
 */
import { afterAll, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis } from "../src/infra/redis/client.ts";
import { silentLogger } from "../src/log.ts";
import { freePort } from "./support/dedicated-redis.ts";
import { pausedWebSocket } from "./support/raw-ws.ts";
import { type ChildServer, MODES, type Mode, MYSQL_URL, REDIS_URL, spawnServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { type SseTestClient, sseClient } from "./support/sse-client.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api, ownDatabase } from "./timers-support.ts";

/** Settles as `p`, or rejects after `ms`: a request the shutdown left hanging fails the test. */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`left hanging: ${what}`)), ms)));
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}
const hung = (e: unknown) => String(e).includes("left hanging");

/** The answer to frame `match` on `c`, or how the socket closed first. */
const answerOrClose = (c: WsTestClient, match: (f: any) => boolean, what: string) =>
  bounded(Promise.race([c.next(match, 60_000).then((f) => f.op as string), c.closed.then((e) => `closed ${e.code}`)]), 8000, what);

const cleanups: (() => unknown)[] = [];
const children: ChildServer[] = [];
afterAll(async () => {
  for (const c of children) c.proc.kill(9);
  for (const c of cleanups) await c();
});

/** Storage that survives a restart: a SQLite file, or a MySQL database of its own plus Redis keys under a prefix of its own. */
async function durableEnv(mode: Mode, name: string): Promise<Record<string, string>> {
  if (mode.name === "embedded") {
    const dir = mkdtempSync(join(tmpdir(), `tw-${name}-`));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return { DATABASE_URL: `sqlite:${join(dir, "tickwire.db")}` };
  }
  const db = await ownDatabase(name);
  const prefix = uniquePrefix(name);
  cleanups.push(async () => {
    await db.drop();
    const client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "test-cleanup" });
    const keys = await client.sendCommand<string[]>(["KEYS", `${prefix}:*`]);
    if (keys.length > 0) await client.sendCommand(["DEL", ...keys]);
    client.destroy();
  });
  return { ...mode.env(prefix), DATABASE_URL: db.url };
}

async function spawn(env: Record<string, string>): Promise<ChildServer> {
  const child = await spawnServer(env);
  children.push(child);
  return child;
}

describe.each(MODES)("SIGTERM ($name)", (mode) => {
  it("under load answers every write with a success, an error or a closed connection, never a hang, and keeps every success across the restart", async () => {
    const env = { ...(await durableEnv(mode, "sd-load")), HISTORY_SIZE: "100000", TICK_MS: "100" };
    const first = await spawn(env);
    const http = api(first);
    const timer = (await http.create("shutdown", 3600)).body;
    const failures: string[] = [];

    const posted = new Set<string>();
    const posters = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; ; i++) {
        const content = `post-${w}-${i}`;
        try {
          const init = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) };
          const res = await bounded(fetch(`${first.url}/messages`, init), 8000, content);
          await res.body?.cancel();
          if (res.status === 201) posted.add(content);
          else failures.push(`post ${res.status}`);
        } catch (e) {
          if (hung(e)) throw e;
          return failures.push(`post: ${String(e).slice(0, 40)}`);
        }
      }
    });

    const published = new Set<string>();
    const publishers = Array.from({ length: 4 }, async (_, w) => {
      const c = wsClient(wsUrl(first, "/ws?topics="));
      await c.opened;
      for (let i = 0; ; i++) {
        const content = `op-${w}-${i}`;
        c.send({ op: "publish", topic: "chat", data: { content }, ref: content });
        const outcome = await answerOrClose(c, (f) => f.ref === content, content);
        if (outcome !== "ack") return failures.push(`publish op: ${outcome}`);
        published.add(content);
      }
    });

    // Up to 4 frames in flight per manager: acks come in frame order.
    const relayed = new Set<string>();
    const managers = Array.from({ length: 2 }, async (_, m) => {
      const c = wsClient(wsUrl(first, "/ws/manager"));
      await c.opened;
      const unanswered: string[] = [];
      for (let i = 0; ; i++) {
        if (unanswered.length >= 4) {
          const outcome = await answerOrClose(c, (f) => f.op === "ack" || f.op === "error", `manager ${m}`);
          if (outcome !== "ack") return failures.push(`manager frame: ${outcome}`);
          relayed.add(unanswered.shift()!);
        }
        unanswered.push(`relay-${m}-${i}`);
        c.send(unanswered.at(-1)!);
      }
    });

    // One change at a time: after the restart the timer shows the last acknowledged one, or the one in flight.
    let acked = { changes: 0, status: "running" };
    let inFlight = "running";
    const changer = (async () => {
      for (let i = 0; ; i++) {
        inFlight = i % 2 === 0 ? "paused" : "running";
        try {
          const res = await bounded(i % 2 === 0 ? http.pause(timer.id) : http.resume(timer.id), 8000, "timer change");
          if (res.status !== 200) return failures.push(`timer ${res.status}`);
          acked = { changes: acked.changes + 1, status: res.body.status };
        } catch (e) {
          if (hung(e)) throw e;
          return failures.push(`timer: ${String(e).slice(0, 40)}`);
        }
      }
    })();

    await until(() => posted.size >= 50 && published.size >= 50 && relayed.size >= 50 && acked.changes >= 3, { message: "traffic to be acknowledged" });
    first.proc.kill("SIGTERM");
    expect(await bounded(first.exited, 10_000, "the process to exit")).toBe(0);
    // Every writer goes on until an error or a closed connection stops it; none hangs.
    await Promise.all([...posters, ...publishers, ...managers, changer]);

    const second = await spawn(env);
    const reader = wsClient(wsUrl(second, `/ws?topics=chat,relay,timer:${timer.id}&since=0`));
    const stored = () => new Set((reader.frames as any[]).filter((f) => typeof f?.seq === "string").map((f) => (f.topic === "relay" ? f.message : f.content)));
    const missing = () => [...posted, ...published, ...relayed].filter((c) => !stored().has(c));
    await until(() => missing().length === 0, {
      message: () => `every acknowledged write to be replayed; missing ${missing().length}: ${missing().slice(0, 5)}`,
    });
    // The timer's events: its creation and every acknowledged change (versions 1..1+changes).
    const versions = () =>
      (reader.frames as any[]).filter((f) => f?.topic === `timer:${timer.id}` && typeof f.version === "number").map((f) => f.version as number);
    await until(() => Math.max(0, ...versions()) >= 1 + acked.changes, {
      message: () => `${acked.changes} acknowledged timer changes; versions ${versions()}`,
    });
    expect([acked.status, inFlight]).toContain((await api(second).get(timer.id)).body.status);
    reader.close();
  });

  it("while clients replay a long history (one stalled) and SSE streams resume: exits at once, WebSockets 1001, streams ended without an overflow", async () => {
    const env = { ...(await durableEnv(mode, "sd-replay")), HISTORY_SIZE: "20000", WS_PUBLISHES_PER_SECOND: "100000", WS_OPS_PER_SECOND: "100000" };
    const child = await spawn(env);
    const manager = wsClient(wsUrl(child, "/ws/manager"));
    await manager.opened;
    const total = 10_000;
    const body = "m".repeat(200);
    for (let i = 0; i < total; i += 500) {
      for (let k = i; k < i + 500; k++) manager.send(`${k}:${body}`);
      await manager.collect(i + 500, (f) => f.op === "ack", 20_000);
    }

    const stalled = await pausedWebSocket(child.port, "/ws/broadcast?since=0");
    const stalledSse = connect(child.port, "127.0.0.1");
    stalledSse.write(`GET /events?topics=relay HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: 0\r\n\r\n`);
    stalledSse.pause();
    const replaying = [wsClient(wsUrl(child, "/ws/broadcast?since=0")), wsClient(wsUrl(child, "/ws?topics=relay,cron&since=0"))];
    const streams: SseTestClient[] = [
      await sseClient(`${child.url}/events?topics=relay`, { "Last-Event-ID": "0" }),
      await sseClient(`${child.url}/events?topics=cron`),
    ];
    await Promise.all([...replaying.map((c) => c.next()), ...streams.map((s) => s.next())]);

    const signalledAt = performance.now();
    child.proc.kill("SIGTERM");
    expect(await bounded(child.exited, 10_000, "the process to exit")).toBe(0);
    expect(performance.now() - signalledAt).toBeLessThan(5000);
    expect((await Promise.all(replaying.map((c) => c.closed))).map((c) => c.code)).toEqual([1001, 1001]);
    await Promise.all(streams.map((s) => bounded(s.ended, 5000, "an SSE stream to end")));
    expect(streams.flatMap((s) => s.events.filter((e) => e.event === "overflow" || e.event === "error"))).toEqual([]);
    stalled.sock.destroy();
    stalledSse.destroy();
  });

  it("survives a second SIGTERM and a SIGINT during the drain: one shutdown, exit 0, the database closed", async () => {
    const env: Record<string, string> = { ...(await durableEnv(mode, "sd-signals")), SHUTDOWN_DELAY_MS: "1000" };
    const child = await spawn(env);
    const ws = wsClient(wsUrl(child, "/ws"));
    await ws.opened;
    const post = await fetch(`${child.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"content":"before"}' });
    expect(post.status).toBe(201);
    const wal = `${env.DATABASE_URL!.slice("sqlite:".length)}-wal`;
    if (mode.name === "embedded") expect(existsSync(wal)).toBe(true);

    child.proc.kill("SIGTERM");
    await until(async () => (await fetch(`${child.url}/health`)).status === 503, { message: "/health to answer 503 while draining" });
    child.proc.kill("SIGTERM");
    // Two signals pending at once are delivered lowest number first (SIGINT before SIGTERM): send the
    // SIGINT only once the second SIGTERM has been seen, so the order logged is the order sent.
    const seen = () => child.lines.filter((l) => l.includes('"signal received"')).length;
    await until(() => seen() === 2, { message: "the second SIGTERM to be logged" });
    child.proc.kill("SIGINT");
    expect(await bounded(child.exited, 10_000, "the process to exit")).toBe(0);
    expect((await ws.closed).code).toBe(1001);
    await until(() => child.lines.some((l) => l.includes('"shutdown complete"')), { message: "the last log lines" });
    const records = child.lines.map((l) => JSON.parse(l));
    expect(records.filter((r) => r.msg === "signal received").map((r) => r.signal)).toEqual(["SIGTERM", "SIGTERM", "SIGINT"]);
    expect(records.filter((r) => r.msg === "shutdown complete")).toHaveLength(1);
    expect(records.filter((r) => r.level >= 50 || r.msg === "dispose failed during shutdown").map((r) => r.msg)).toEqual([]);
    expect(await new Response(child.proc.stderr as ReadableStream).text()).toBe("");
    // SQLite removes the write-ahead log when its last connection closes: the file was closed.
    if (mode.name === "embedded") expect(existsSync(wal)).toBe(false);

    const again = await spawn(env);
    const history = (await (await fetch(`${again.url}/messages`)).json()) as { messages: { content: string }[] };
    expect(history.messages.map((m) => m.content)).toEqual(["before"]);
  });
});

/** Runs `bun src/main.ts` expecting it to give up: its exit code (or "still running" after `ms`) and its log records. */
async function failedStart(env: Record<string, string>, ms: number): Promise<{ code: number | "still running"; records: any[] }> {
  const proc = Bun.spawn([process.execPath, "src/main.ts"], {
    cwd: `${import.meta.dir}/..`,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", APP_ENV: "test", LOG_LEVEL: "info", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = await Promise.race([proc.exited, new Promise<"still running">((resolve) => (timer = setTimeout(() => resolve("still running"), ms)))]);
  clearTimeout(timer);
  proc.kill(9);
  const text = await new Response(proc.stdout as ReadableStream).text();
  return {
    code,
    records: text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line)),
  };
}

describe("a start against an unreachable dependency", () => {
  const proxies: TcpProxy[] = [];
  afterAll(() => {
    for (const p of proxies) p.stop();
  });
  /** A port that accepts connections and never answers on them (a dead path, a hung server). */
  const silent = async (target: string) => {
    const proxy = await TcpProxy.start(Number(new URL(target).port));
    proxies.push(proxy);
    proxy.blackhole();
    return proxy.port;
  };
  const cases: [string, () => Promise<Record<string, string>>, RegExp][] = [
    ["Redis refuses connections", async () => ({ DATABASE_URL: MYSQL_URL, REDIS_URL: `redis://127.0.0.1:${freePort()}` }), /^redis .*ECONNREFUSED/],
    [
      "Redis accepts connections and never answers",
      async () => ({ DATABASE_URL: MYSQL_URL, REDIS_URL: `redis://127.0.0.1:${await silent(REDIS_URL)}` }),
      /^redis .*not connected/,
    ],
    ["MySQL refuses connections", async () => ({ DATABASE_URL: `mysql://root@127.0.0.1:${freePort()}/test` }), /^database .*ECONNREFUSED/],
    [
      "MySQL accepts connections and never answers",
      async () => ({ DATABASE_URL: `mysql://root@127.0.0.1:${await silent(MYSQL_URL)}/test` }),
      /^database .*ETIMEDOUT/,
    ],
    ["the SQLite file cannot be created", async () => ({ DATABASE_URL: "sqlite:/proc/tickwire/tickwire.db" }), /\/proc\/tickwire/],
  ];
  it.each(cases)(
    "exits 1 with one fatal line naming it, and never listens, when %s",
    async (_, envOf, names) => {
      const { code, records } = await failedStart({ STREAM_PREFIX: uniquePrefix("sd-start"), ...(await envOf()) }, 20_000);
      expect(records.filter((r) => r.msg === "tickwire listening")).toEqual([]);
      const fatal = records.filter((r) => r.level === "fatal");
      expect({ code, fatal: fatal.map((r) => r.msg) }).toEqual({ code: 1, fatal: ["startup failed"] });
      expect(fatal[0].err).toMatch(names);
    },
    25_000,
  );
});
