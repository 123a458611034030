/**
 * Timers survive `kill -9`: in both storage modes (a SQLite file; MySQL + Redis) a child server
 * holding 20 timers is killed without warning and a new one started on the same storage. Every
 * timer is back; paused ones kept their time; running ones kept counting through the downtime
 * (wall-clock) and those whose time passed meanwhile finish with exactly one TIMER_EXPIRE.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildServer, MODES, spawnServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

const LONG = 3600;
const SHORT = 2;

describe.each(MODES)("timers after kill -9 ($name)", (mode) => {
  const children: ChildServer[] = [];
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of children) c.proc.kill(9);
    for (const c of cleanups) await c();
  });

  it("brings back 20 timers: paused at their time, running advanced by the downtime, due ones expired once", async () => {
    let env: Record<string, string>;
    if (mode.name === "mysql+redis") {
      const db = await ownDatabase("restart");
      cleanups.push(() => db.drop());
      env = timersEnv(mode, uniquePrefix("restart"), db.url);
    } else {
      const dir = mkdtempSync(join(tmpdir(), "tw-restart-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      // A parent folder that does not exist yet: the server creates it.
      env = timersEnv(mode, uniquePrefix("restart"), undefined, { DATABASE_URL: `sqlite:${join(dir, "nested", "timers.db")}` });
    }
    const first = await spawnServer(env);
    children.push(first);
    const http1 = api(first);
    const session = uniquePrefix("r");
    const gm1 = wsClient(wsUrl(first, `/ws/gamemaster/${session}`));
    await gm1.opened;

    const create = async (maxTime: number) => (await http1.create(session, maxTime)).body;
    const long = await Promise.all(Array.from({ length: 10 }, () => create(LONG)));
    const toPause = await Promise.all(Array.from({ length: 6 }, () => create(LONG)));
    const short = await Promise.all(Array.from({ length: 4 }, () => create(SHORT)));
    // Let a second be counted, so paused timers hold a non-zero time.
    await gm1.next((f) => f.type === "TIMER_UPDATE" && f.payload.id === toPause.at(-1).id && f.payload.currentTime >= 1, 5_000);
    const paused = await Promise.all(toPause.map(async (t) => (await http1.pause(t.id)).body));
    for (const p of paused) expect(p).toMatchObject({ status: "paused", currentTime: 1 });
    for (const s of short) expect((await http1.get(s.id)).body.status).toBe("running");
    const lastSeq: string = (gm1.frames as any[]).filter((f) => f.type !== "TIMER_UPDATE" && typeof f.seq === "string").at(-1).seq;

    first.proc.kill(9);
    expect(await first.exited).not.toBe(0);
    gm1.close();
    // The downtime must cover the short timers' end: wait for the wall clock to pass it.
    const shortEnd = Math.max(...short.map((s) => Date.parse(s.createdAt))) + SHORT * 1000 + 50;
    await until(() => Date.now() >= shortEnd, { message: "the wall clock to pass the short timers' end" });

    const second = await spawnServer(env);
    children.push(second);
    const http2 = api(second);
    // Embedded mode's log starts empty in the new process: replay all of it. Redis: after the last seq seen.
    const since = mode.name === "mysql+redis" ? lastSeq : "0";
    const gm2 = wsClient(wsUrl(second, `/ws/gamemaster/${session}?since=${since}`));
    await gm2.opened;

    for (const s of short) await gm2.collect(1, (f) => f.type === "TIMER_EXPIRE" && f.payload.id === s.id, 5_000);
    // A few more ticks: still exactly one expiry each.
    await gm2.collect(3, (f) => f.type === "TIMER_UPDATE" && f.payload.id === long[0].id);
    for (const s of short) {
      expect(gm2.frames.filter((f: any) => f.type === "TIMER_EXPIRE" && f.payload.id === s.id)).toHaveLength(1);
      expect((await http2.get(s.id)).body).toMatchObject({ status: "finished", currentTime: SHORT, isPaused: true });
    }
    for (const p of paused) expect((await http2.get(p.id)).body).toEqual(p);
    for (const t of long) {
      const before = Date.now();
      const { status, body } = await http2.get(t.id);
      const after = Date.now();
      expect(status).toBe(200);
      expect(body.status).toBe("running");
      const created = Date.parse(t.createdAt);
      expect(body.currentTime).toBeGreaterThanOrEqual(Math.floor((before - created) / 1000));
      expect(body.currentTime).toBeLessThanOrEqual(Math.floor((after - created) / 1000));
      expect(body.currentTime).toBeGreaterThanOrEqual(SHORT);
    }
    const listed = (await http2.list(session)).body;
    expect(listed).toHaveLength(20);
    gm2.close();
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 30_000);
});
