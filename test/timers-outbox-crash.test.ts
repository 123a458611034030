/**
 * Timer events exactly once across `kill -9` (issue #15): 200 timers of one second expire at
 * about the same time and the server is killed without warning on the first `TIMER_EXPIRE` its
 * game master sees, so expiries are committed, half committed and not yet started at that
 * instant. Then a new server on the same storage (or, with two instances, the one still up)
 * takes over and a game master resumes from the last seq it saw.
 *
 * Every timer ends `finished`, and the frames seen before the kill plus those seen after
 * resuming hold EXACTLY ONE `TIMER_EXPIRE` per timer: none lost between the database commit and
 * the log (the outbox), none published twice. Nothing is deduplicated here, so a duplicate
 * fails the test. With Redis the `timers` stream itself must hold exactly one per timer, too.
 *
 * Embedded mode (a SQLite file): the new process starts a new in-memory log whose seqs are all
 * later than the last one seen, so `?since=<last seq>` replays everything it published.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { type ChildServer, MODES, REDIS_URL, spawnServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

const COUNT = 200;
const TICK_MS = "100";
const embedded = MODES.find((m) => m.name === "embedded")!;
const mysqlRedis = MODES.find((m) => m.name === "mysql+redis")!;

/** A durable timer frame (not the per-tick `TIMER_UPDATE`, not an ack). */
const isDurable = (f: any) => typeof f?.type === "string" && f.type !== "TIMER_UPDATE" && typeof f.seq === "string";

/** The ids of `wanted` not seen exactly once in `seen`. */
function notExactlyOnce(wanted: number[], seen: number[]): { missing: number[]; repeated: { id: number; times: number }[] } {
  const times = new Map<number, number>();
  for (const id of seen) times.set(id, (times.get(id) ?? 0) + 1);
  return {
    missing: wanted.filter((id) => !times.has(id)),
    repeated: wanted.filter((id) => (times.get(id) ?? 0) > 1).map((id) => ({ id, times: times.get(id)! })),
  };
}

/** A sample of `name` from `server`'s /metrics; undefined when there is none. */
async function metric(server: { url: string }, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Every entry of the stream `key` on the shared Redis, bodies parsed. */
async function streamBodies(key: string): Promise<any[]> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    const entries = (await client.xRange(key, "-", "+")) ?? [];
    return entries.map((e) => JSON.parse(String(e.message.d)));
  } finally {
    await client.close();
  }
}

describe("timer events exactly once across kill -9 during a mass expiry", () => {
  const children: ChildServer[] = [];
  const cleanups: (() => unknown)[] = [];
  const prefixes: string[] = [];

  afterAll(async () => {
    for (const c of children) c.proc.kill(9);
    await Promise.all(children.map((c) => c.exited));
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        console.error("cleanup failed:", error);
      }
    }
    if (prefixes.length) {
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      for (const prefix of prefixes) {
        const keys = await client.keys(`${prefix}:*`);
        if (keys.length) await client.del(keys);
      }
      await client.close();
    }
  });

  const spawn = async (env: Record<string, string>) => {
    // The COUNT timers and the probe are in one session: past the default TIMERS_PER_SESSION (100).
    const child = await spawnServer({ TIMERS_PER_SESSION: String(COUNT + 1), ...env });
    children.push(child);
    return child;
  };

  /**
   * 200 one-second timers created on `victim` (and `survivor`, alternately), killed on the first
   * expiry its game master sees; then a new server on the same storage (or `survivor`) serves the
   * rest to a game master resuming from the last seq seen.
   */
  async function crashDuringMassExpiry(opts: { env: Record<string, string>; twoInstances?: boolean; stream?: string }): Promise<void> {
    const victim = await spawn(opts.env);
    const survivor = opts.twoInstances ? await spawn(opts.env) : undefined;
    const session = uniquePrefix("mass");
    const gm1 = wsClient(wsUrl(victim, `/ws/gamemaster/${session}`));
    await gm1.opened;
    const firstExpire = gm1.next((f) => f.type === "TIMER_EXPIRE", 15_000);
    firstExpire.catch(() => {});

    const makers = survivor ? [victim, survivor] : [victim];
    const created = await Promise.all(Array.from({ length: COUNT }, (_, i) => api(makers[i % makers.length]!).create(session, 1)));
    const ids = created.map((c) => c.body?.id as number).sort((a, b) => a - b);
    expect(created.filter((c) => c.status !== 201)).toEqual([]);

    await firstExpire;
    victim.proc.kill(9);
    expect(await victim.exited).not.toBe(0);
    // Frames the killed process had already sent still arrive; they count as seen before the kill.
    await gm1.closed;
    const before = gm1.frames.filter(isDurable) as any[];
    const expiredBefore = before.filter((f) => f.type === "TIMER_EXPIRE").length;
    // The kill landed during the expiry, not after it (else this would test nothing).
    expect(expiredBefore).toBeGreaterThan(0);
    expect(expiredBefore).toBeLessThan(COUNT);
    const lastSeq: string = before.at(-1).seq;

    const next = survivor ?? (await spawn(opts.env));
    const http = api(next);
    const gm2 = wsClient(wsUrl(next, `/ws/gamemaster/${session}?since=${encodeURIComponent(lastSeq)}`));
    await gm2.opened;

    await until(
      async () => {
        const list = (await http.list(session)).body;
        return Array.isArray(list) && list.length === COUNT && list.every((t: any) => t.status === "finished");
      },
      { message: `all ${COUNT} timers to be finished on the server that took over` },
    );
    const expiries = () => [...gm1.frames, ...gm2.frames].filter((f: any) => f?.type === "TIMER_EXPIRE") as any[];
    // Wait for every expiry to come through and the outbox to be empty; if that never happens,
    // the assertions below say what is missing.
    await until(async () => new Set(expiries().map((f) => f.payload.id)).size >= COUNT && (await metric(next, "tickwire_timer_outbox_depth")) === 0, {
      timeoutMs: 5_000,
    }).catch(() => {});
    // A change committed after all of the above; published in commit order, so anything published
    // again for the old changes would come before its TIMER_CREATE. Then a few more ticks.
    const probe = (await http.create(session, 3600)).body;
    await gm2.next((f) => f.type === "TIMER_CREATE" && f.payload.id === probe.id);
    await gm2.collect(3, (f) => f.type === "TIMER_UPDATE" && f.payload.id === probe.id);

    const list = ((await http.list(session)).body as any[]).filter((t) => t.id !== probe.id);
    expect(list.map((t) => [t.id, t.status, t.currentTime])).toEqual(ids.map((id) => [id, "finished", 1]));

    const seen = expiries();
    const expired = notExactlyOnce(
      ids,
      seen.map((f) => f.payload.id),
    );
    expect({ expiredBeforeTheKill: expiredBefore, ...expired }).toEqual({ expiredBeforeTheKill: expiredBefore, missing: [], repeated: [] });
    const creates = [...gm1.frames, ...gm2.frames].filter((f: any) => f?.type === "TIMER_CREATE" && f.payload.id !== probe.id) as any[];
    const createdOnce = notExactlyOnce(
      ids,
      creates.map((f) => f.payload.id),
    );
    expect(createdOnce).toEqual({ missing: [], repeated: [] });

    // Durable timer events carry their event id and the row's version after the change.
    // (Checked by hand: toMatchObject with expect.any() would write the matchers into the frames.)
    const lacking = seen.filter((f) => typeof f.eventId !== "string" || typeof f.version !== "number");
    expect({ lackingEventIdOrVersion: lacking.length, first: lacking[0] }).toEqual({ lackingEventIdOrVersion: 0, first: undefined });
    expect(new Set(seen.map((f) => f.eventId)).size).toBe(seen.length);

    expect(await metric(next, "tickwire_timer_outbox_depth")).toBe(0);

    if (opts.stream) {
      const bodies = (await streamBodies(opts.stream)).filter((b) => b.type === "TIMER_EXPIRE");
      const inStream = notExactlyOnce(
        ids,
        bodies.map((b) => b.payload.id),
      );
      expect(inStream).toEqual({ missing: [], repeated: [] });
    }
    gm2.close();
  }

  it("embedded (SQLite file): a restarted server publishes every expiry once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tw-outbox-crash-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = timersEnv(embedded, uniquePrefix("oc"), undefined, { DATABASE_URL: `sqlite:${join(dir, "t.db")}`, TICK_MS });
    await crashDuringMassExpiry({ env });
  }, 30_000);

  it("mysql+redis: a restarted server publishes every expiry once, and the stream holds each once", async () => {
    const db = await ownDatabase("outbox_crash");
    cleanups.push(() => db.drop());
    const prefix = uniquePrefix("oc");
    prefixes.push(prefix);
    await crashDuringMassExpiry({ env: timersEnv(mysqlRedis, prefix, db.url, { TICK_MS }), stream: `${prefix}:timers` });
  }, 30_000);

  it("two instances on mysql+redis: the survivor publishes what the killed one committed, each once", async () => {
    const db = await ownDatabase("outbox_crash2");
    cleanups.push(() => db.drop());
    const prefix = uniquePrefix("oc2");
    prefixes.push(prefix);
    await crashDuringMassExpiry({ env: timersEnv(mysqlRedis, prefix, db.url, { TICK_MS }), twoInstances: true, stream: `${prefix}:timers` });
  }, 30_000);
});
