/**
 * Issue #19 / SPEC §6 (added): a customer or game master that connects without `since` first
 * receives the current state of its timers, one `TIMER_UPDATE` frame each (running, paused and
 * finished ones), then live frames, with no gap and no duplicate, also against changes made while
 * it connects (on the same instance, and in Redis mode on another one). Snapshot frames keep the
 * seq rules: strictly increasing with what follows, and resuming from one replays exactly the
 * entries after the position it reflects. With `?since=` the socket replays instead.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

/** A snapshot frame: a `TIMER_UPDATE` whose seq is `<position>.<k>` with a small `k` (ticks carry huge ones). */
const isSnapshot = (f: any) => f?.type === "TIMER_UPDATE" && /^\d+-\d+\.\d{1,6}$/.test(f.seq);
const isDurable = (f: any) => typeof f?.version === "number";
const ofTimer = (id: number) => (f: any) => f?.payload?.id === id;

/** Every frame with a seq, in delivery order, has a larger seq than the one before. */
function expectIncreasingSeqs(client: WsTestClient): void {
  const seqs = client.frames.flatMap((f: any) => (typeof f?.seq === "string" ? [f.seq as string] : []));
  for (let i = 1; i < seqs.length; i++) {
    if (compareSeq(seqs[i - 1]!, seqs[i]!) >= 0) throw new Error(`seq ${seqs[i]} after ${seqs[i - 1]} (frame ${i})`);
  }
}

describe.each(MODES)("timer snapshot on connect ($name)", (mode) => {
  let app: Tickwire;
  let other: Tickwire | undefined;
  let database: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  let http: ReturnType<typeof api>;
  /** Sees every durable change of every timer from the start: the reference history. */
  let observer: WsTestClient;

  beforeAll(async () => {
    if (mode.name === "mysql+redis") database = await ownDatabase("snapshot");
    const env = timersEnv(mode, uniquePrefix("snapshot"), database?.url);
    app = await startServer(env);
    // Redis mode: a second instance on the same database and streams, where changes are made
    // while sockets connect to the first (whose map then lags the delivered entry).
    if (mode.name === "mysql+redis") other = await startServer(env);
    http = api(app);
    observer = wsClient(wsUrl(app, "/ws/gamemaster/observer"));
    await observer.opened;
  });
  afterAll(async () => {
    observer?.close();
    await other?.stop();
    await app?.stop();
    await database?.drop();
  });

  /** The version of `id` whose state had `maxTime` and `status`, from the observer's history. */
  const versionOf = (id: number, maxTime: number, status: string): number | undefined =>
    (observer.frames as any[]).find((f) => isDurable(f) && f.payload.id === id && f.payload.maxTime === maxTime && f.payload.status === status)?.version;

  it("sends running, paused and finished timers first, one TIMER_UPDATE each; customers their session's, game masters all", async () => {
    const session = uniquePrefix("snap");
    const running = (await http.create(session, 600)).body;
    const paused = (await http.create(session, 600)).body;
    await http.pause(paused.id);
    const finished = (await http.create(session, 1)).body;
    const elsewhere = (await http.create(uniquePrefix("else"), 600)).body;
    await until(async () => (await http.get(finished.id)).body.status === "finished", { message: "the 1 s timer to finish" });
    // Every change above has reached this instance's live sockets.
    const lastChange = await observer.next((f) => f.type === "TIMER_EXPIRE" && f.payload.id === finished.id);

    const customer = wsClient(wsUrl(app, `/ws/customer/${session}`));
    const gm = wsClient(wsUrl(app, "/ws/gamemaster/any"));
    const first = await customer.collect(3, () => true);
    expect(first.map((f) => [f.topic, f.type, f.payload.id])).toEqual([
      [`session:${session}`, "TIMER_UPDATE", running.id],
      [`session:${session}`, "TIMER_UPDATE", paused.id],
      [`session:${session}`, "TIMER_UPDATE", finished.id],
    ]);
    const now = await Promise.all([running.id, paused.id, finished.id].map(async (id) => (await http.get(id)).body));
    expect(first[0].payload).toEqual({ ...now[0], currentTime: expect.any(Number), isPaused: false, status: "running" });
    expect(first[1].payload).toEqual({ ...now[1], isPaused: true, status: "paused" });
    expect(first[2].payload).toEqual({ ...now[2], currentTime: 1, maxTime: 1, isPaused: true, status: "finished" });
    // The position the snapshot reflects is the newest entry delivered here, then k = 1, 2, 3.
    expect(first.map((f) => f.seq)).toEqual([1, 2, 3].map((k) => `${lastChange.seq}.${k}`));
    expect(first.every((f) => f.epoch === lastChange.epoch)).toBe(true);

    // A tick of the running timer comes after the whole snapshot.
    await gm.next((f) => !isSnapshot(f));
    const gmSnapshot = gm.frames.filter(isSnapshot) as any[];
    const ids = gmSnapshot.map((f) => f.payload.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const id of [running.id, paused.id, finished.id, elsewhere.id]) expect(ids.filter((x) => x === id)).toHaveLength(1);
    expect(gmSnapshot.every((f) => f.topic === "timers")).toBe(true);
    // The snapshot frames came first, before any tick or change.
    expect(gm.frames.slice(0, gmSnapshot.length).every(isSnapshot)).toBe(true);

    // Live frames follow: a tick of the running timer, then a change.
    await customer.next((f) => f.type === "TIMER_UPDATE" && !isSnapshot(f) && f.payload.id === running.id);
    await http.pause(running.id);
    await customer.next((f) => f.type === "TIMER_PAUSE" && f.payload.id === running.id);
    expectIncreasingSeqs(customer);
    expectIncreasingSeqs(gm);
    customer.close();
    gm.close();
  });

  it("with ?since= replays instead of a snapshot; resuming from a snapshot frame's seq replays exactly what came after it", async () => {
    const session = uniquePrefix("resume");
    const t = (await http.create(session, 600)).body;
    await http.pause(t.id);
    await observer.next((f) => f.type === "TIMER_PAUSE" && f.payload.id === t.id);

    const first = wsClient(wsUrl(app, `/ws/customer/${session}`));
    const [snap] = await first.collect(1, isSnapshot);
    expect(snap.payload).toMatchObject({ id: t.id, status: "paused" });
    await http.resume(t.id);
    const resumed = await first.next((f) => f.type === "TIMER_RESUME");
    first.close();

    const fromSnapshot = wsClient(wsUrl(app, `/ws/customer/${session}?since=${encodeURIComponent(snap.seq)}`));
    const replayed = await fromSnapshot.next((f) => isDurable(f));
    expect([replayed.type, replayed.seq]).toEqual(["TIMER_RESUME", resumed.seq]);
    expect(fromSnapshot.frames.filter(isSnapshot)).toEqual([]);
    await http.modify(t.id, 700);
    await fromSnapshot.next((f) => f.type === "TIMER_MODIFY");
    expect(fromSnapshot.frames.filter(isDurable).map((f: any) => f.type)).toEqual(["TIMER_RESUME", "TIMER_MODIFY"]);
    expectIncreasingSeqs(fromSnapshot);
    fromSnapshot.close();
  });

  it("neither misses nor repeats a change made while a customer or game master connects", async () => {
    const session = uniquePrefix("race");
    const t = (await http.create(session, 100_000)).body;
    // Until its TIMER_CREATE is delivered here, a timer is not in snapshots: that frame comes live.
    await observer.next((f) => f.type === "TIMER_CREATE" && f.payload.id === t.id);
    let status = "running";
    for (let i = 0; i < 24; i++) {
      // Changes made here are in this instance's map before the log delivers them; with a second
      // instance, every other change is made there, and this one learns of it from the log.
      const writer = api(other && i % 3 !== 2 ? other : app);
      // Every change leaves a distinct (maxTime, status): a frame's state names its version.
      const change = i % 2 === 0 ? writer.modify(t.id, 1000 + i) : status === "running" ? writer.pause(t.id) : writer.resume(t.id);
      const path = i % 4 < 2 ? `/ws/customer/${session}` : "/ws/gamemaster/race";
      // Connecting with the request, or just after its answer (the change is committed and in
      // the map; the outbox publishes it to the log a moment later).
      const after = i % 2 === 1 ? await change : undefined;
      const client = wsClient(wsUrl(app, path));
      const [res] = await Promise.all([after ?? change, client.opened]);
      expect(res.status).toBe(200);
      status = res.body.status;
      // One more change after the connect, and the version it made.
      const marker = (await writer.modify(t.id, 50_000 + i)).body;
      await observer.next((f) => isDurable(f) && f.payload.id === t.id && f.payload.maxTime === marker.maxTime);
      const last = versionOf(t.id, marker.maxTime, marker.status)!;
      await client.next((f) => isDurable(f) && f.payload.id === t.id && f.version === last);

      const mine = (client.frames as any[]).filter(ofTimer(t.id));
      if (!isSnapshot(mine[0])) throw new Error(`iteration ${i}: first frame of timer ${t.id} is not a snapshot: ${JSON.stringify(mine[0])}`);
      const shown = versionOf(t.id, mine[0].payload.maxTime, mine[0].payload.status);
      expect(shown).toBeNumber();
      // After the state the snapshot showed: every later version once, in order, none before it.
      const versions = mine.filter(isDurable).map((f) => f.version);
      expect(versions).toEqual(Array.from({ length: last - shown! }, (_, k) => shown! + 1 + k));
      expect(mine.slice(1).filter(isSnapshot)).toEqual([]);
      expectIncreasingSeqs(client);
      client.close();
    }
  });
});
