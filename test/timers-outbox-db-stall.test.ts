/**
 * Timer changes while the database hangs (issue #15), on a DEDICATED MariaDB (the shared one is
 * never touched) that is SIGSTOPped under two instances sharing it and the machine's Redis (a
 * prefix of their own), with `DB_QUERY_TIMEOUT_MS=1000`.
 *
 * While it is stopped, creates (each with its own `Idempotency-Key`) and pauses answer 504
 * `outcome_unknown` (the write may still commit) or 503 (it was refused, so nothing was written).
 * After SIGCONT: retrying a create with its key answers 201 and leaves exactly one timer per key;
 * a create answered 503 left none; changes answered 504 that did commit become visible on both
 * instances and are published (a game master sees TIMER_PAUSE exactly for the pauses that
 * committed).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createClient } from "redis";
import { DedicatedMariaDb } from "./support/dedicated-mariadb.ts";
import { type ChildServer, REDIS_URL, spawnServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api } from "./timers-support.ts";

const QUERY_TIMEOUT_MS = 1000;

interface Answer {
  status: number;
  body: any;
  replayed: string | null;
  ms: number;
}

/** One JSON request, with headers, timed; a request that gets no answer in 15 s fails the test. */
async function request(server: { url: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, replayed: res.headers.get("idempotent-replayed"), ms: Math.round(performance.now() - started) };
}

/** A sample of `name` from `server`'s /metrics; undefined when there is none. */
async function metric(server: { url: string }, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

/** 504 outcome_unknown, or 503 (refused): what a change may answer while the database hangs. */
const stalledAnswer = (a: Answer) => (a.status === 504 && a.body?.error?.code === "outcome_unknown") || a.status === 503;

describe("timer changes while MariaDB is stopped (dedicated mariadbd, two instances)", () => {
  const maria = new DedicatedMariaDb();
  const prefix = uniquePrefix("ostall");
  const base = uniquePrefix("st");
  const existingSession = `${base}-existing`;
  const children: ChildServer[] = [];
  let a: ChildServer;
  let b: ChildServer;
  let gm: WsTestClient;
  const existing: number[] = [];
  const creates: { key: string; sessionId: string; maxTime: number; via: ChildServer; other: ChildServer; first?: Answer }[] = [];
  const pauses: { id: number; via: ChildServer; first?: Answer }[] = [];

  beforeAll(async () => {
    await maria.start();
    const env = { DATABASE_URL: maria.url, REDIS_URL, STREAM_PREFIX: prefix, TICK_MS: "100", DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) };
    // One after the other: the first migrates the new database.
    a = await spawnServer(env);
    children.push(a);
    b = await spawnServer(env);
    children.push(b);
    gm = wsClient(wsUrl(a, "/ws/gamemaster/x"));
    await gm.opened;
    for (let i = 0; i < 4; i++) {
      const created = await api(i % 2 ? b : a).create(existingSession, 600);
      expect(created.status).toBe(201);
      existing.push(created.body.id);
    }
    await gm.collect(existing.length, (f) => f.type === "TIMER_CREATE" && existing.includes(f.payload?.id));
    for (let i = 0; i < 4; i++) {
      const via = i % 2 ? b : a;
      creates.push({ key: crypto.randomUUID(), sessionId: `${base}-k${i}`, maxTime: 600 + i, via, other: via === a ? b : a });
    }
    existing.forEach((id, i) => pauses.push({ id, via: i % 2 ? a : b }));
    // Open connections in both pools (concurrent reads of timers they do not hold): a change
    // that found none when the server stopped would wait for a connect, and never be sent (503).
    for (const server of [a, b]) await Promise.all(Array.from({ length: 10 }, (_, i) => api(server).get(900_000 + i)));
  }, 30_000);
  afterAll(async () => {
    gm?.close();
    maria.cont();
    for (const c of children) c.proc.kill(9);
    await Promise.all(children.map((c) => c.exited));
    await maria.dispose();
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length) await client.del(keys);
    await client.close();
  });

  const post = (c: (typeof creates)[number], via = c.via) =>
    request(via, "POST", "/timer", { sessionId: c.sessionId, maxTime: c.maxTime }, { "Idempotency-Key": c.key });
  const timersOf = (sessions: string[]) =>
    maria.query<{ id: number; session_id: string; status: string; max_time: number }>(
      "SELECT id, session_id, status, max_time FROM timers WHERE session_id IN (?) ORDER BY id",
      [sessions],
    );

  it("answers 504 outcome_unknown (or 503 when refused) within the query timeout while the database is stopped", async () => {
    maria.stop();
    try {
      await Promise.all([
        ...creates.map(async (c) => (c.first = await post(c))),
        ...pauses.map(async (p) => (p.first = await request(p.via, "PUT", `/timer/${p.id}/pause`))),
      ]);
    } finally {
      maria.cont();
    }
    const answers = [...creates.map((c) => ({ what: `create ${c.sessionId}`, ...c.first! })), ...pauses.map((p) => ({ what: `pause ${p.id}`, ...p.first! }))];
    console.log("while stopped:", answers.map((x) => `${x.what}: ${x.status} ${x.body?.error?.code ?? ""} in ${x.ms} ms`).join("; "));
    expect(answers.filter((x) => !stalledAnswer(x))).toEqual([]);
    // Nothing refused a connection (the server was there, silent): at least the writes sent on an
    // open connection have an unknown outcome.
    expect(answers.filter((x) => x.status === 504).length).toBeGreaterThan(0);
    // DB_QUERY_TIMEOUT_MS, not the 5 s default, bounds the wait.
    expect(answers.filter((x) => x.ms > 4 * QUERY_TIMEOUT_MS).map((x) => `${x.what}: ${x.ms} ms`)).toEqual([]);
  }, 30_000);

  it("after SIGCONT: a create answered 503 left no timer; retried with its key, each create answers 201 and leaves exactly one", async () => {
    await until(async () => (await maria.query("SELECT 1")).length === 1, { message: "the dedicated MariaDB to answer again" });
    for (const server of [a, b]) {
      await until(async () => (await fetch(`${server.url}/health`)).status === 200, { message: `${server.url}/health to be 200 again` });
    }
    const refused = creates.filter((c) => c.first?.status === 503).map((c) => c.sessionId);
    if (refused.length) expect(await timersOf(refused)).toEqual([]);

    for (const c of creates) {
      const retry = await post(c);
      expect({ key: c.sessionId, status: retry.status, body: retry.body }).toMatchObject({
        key: c.sessionId,
        status: 201,
        body: { sessionId: c.sessionId, maxTime: c.maxTime },
      });
      // Once more, on the other instance: the first answer again, marked as a replay.
      const again = await post(c, c.other);
      expect({ status: again.status, body: again.body, replayed: again.replayed }).toEqual({ status: 201, body: retry.body, replayed: "true" });
    }
    const rows = await timersOf(creates.map((c) => c.sessionId));
    expect(creates.map((c) => rows.filter((r) => r.session_id === c.sessionId).length)).toEqual(creates.map(() => 1));

    // A change with a key, repeated on the other instance: the same answer, replayed, changed once.
    const key = { "Idempotency-Key": crypto.randomUUID() };
    const modified = await request(a, "PUT", `/timer/${existing[0]}/modify`, { maxTime: 900 }, key);
    expect({ status: modified.status, maxTime: modified.body?.maxTime }).toEqual({ status: 200, maxTime: 900 });
    const repeated = await request(b, "PUT", `/timer/${existing[0]}/modify`, { maxTime: 900 }, key);
    expect({ status: repeated.status, body: repeated.body, replayed: repeated.replayed }).toEqual({ status: 200, body: modified.body, replayed: "true" });
  }, 30_000);

  it("after SIGCONT: both instances show what the database holds, and the game master saw each committed change once", async () => {
    const sessions = [existingSession, ...creates.map((c) => c.sessionId)];
    const view = (t: any) => ({ id: t.id, sessionId: t.sessionId, status: t.status, maxTime: t.maxTime });
    const fromDb = async () => {
      const rows = await timersOf(sessions);
      const out: Record<string, unknown> = {};
      for (const s of sessions) out[s] = rows.filter((r) => r.session_id === s).map((r) => view({ ...r, sessionId: r.session_id, maxTime: r.max_time }));
      return out as Record<string, ReturnType<typeof view>[]>;
    };
    /** The database, and what `read` shows for each session on each instance. */
    const snapshot = async (read: (server: ChildServer, session: string, rows: ReturnType<typeof view>[]) => Promise<unknown>) => {
      const db = await fromDb();
      const shown: Record<string, unknown> = {};
      const expected: Record<string, unknown> = {};
      for (const [name, server] of Object.entries({ a, b })) {
        for (const s of sessions) {
          shown[`${name} ${s}`] = await read(server, s, db[s]!);
          expected[`${name} ${s}`] = db[s];
        }
      }
      return { shown, expected };
    };
    const expectAgreement = async (what: string, read: Parameters<typeof snapshot>[0]) => {
      // Until they agree; if they never do, the assertion below shows how they differ.
      await until(
        async () => {
          const { shown, expected } = await snapshot(read);
          return Bun.deepEquals(shown, expected);
        },
        { message: what, timeoutMs: 5_000 },
      ).catch(() => {});
      const { shown, expected } = await snapshot(read);
      expect(shown).toEqual(expected);
    };
    // The lists first: a GET /timer/:id may load a timer it did not hold, which would hide a missing event.
    await expectAgreement("GET /timers to agree with the database", async (server, session) => ((await api(server).list(session)).body as any[]).map(view));
    await expectAgreement("GET /timer/:id to agree with the database", (server, _, rows) =>
      Promise.all(rows.map(async (r) => view((await api(server).get(r.id)).body))),
    );
    const rows = await timersOf(sessions);

    // Everything committed is published (an empty outbox), and, in commit order, a change committed
    // now comes after every earlier one.
    const outboxes = async () => [await metric(a, "tickwire_timer_outbox_depth"), await metric(b, "tickwire_timer_outbox_depth")];
    await until(async () => Bun.deepEquals(await outboxes(), [0, 0]), { timeoutMs: 5_000 }).catch(() => {});
    expect(await outboxes()).toEqual([0, 0]);
    const probe = (await api(b).create(`${base}-probe`, 600)).body;
    await gm.next((f) => f.type === "TIMER_CREATE" && f.payload?.id === probe.id);
    const pausesSeen = (id: number) => gm.frames.filter((f: any) => f?.type === "TIMER_PAUSE" && f.payload?.id === id).length;
    const committed = (id: number) => (rows.find((r) => r.id === id)?.status === "paused" ? 1 : 0);
    expect(existing.map((id) => ({ id, answered: pauses.find((p) => p.id === id)?.first?.status, pauses: pausesSeen(id) }))).toEqual(
      existing.map((id) => ({ id, answered: pauses.find((p) => p.id === id)?.first?.status, pauses: committed(id) })),
    );
    const createdIds = rows.filter((r) => r.session_id !== existingSession).map((r) => r.id);
    const createsSeen = createdIds.map((id) => gm.frames.filter((f: any) => f?.type === "TIMER_CREATE" && f.payload?.id === id).length);
    expect(createsSeen).toEqual(createdIds.map(() => 1));
    expect(gm.frames.filter((f: any) => f?.type === "TIMER_MODIFY" && f.payload?.id === existing[0]).map((f: any) => f.payload.maxTime)).toEqual([900]);
  }, 30_000);
});
