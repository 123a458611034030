/**
 * Issue 16, offsets that never lie, for ephemeral frames, in both storage modes: a per-tick
 * `TIMER_UPDATE` on `session:<sid>` carries `<last durable seq>.<k>`, so the seqs a customer
 * receives strictly increase in delivery order, durable and ephemeral alike, while a driver
 * changes that session's timers under load; and resuming with `since=` ANY seq it saw (durable
 * or ephemeral) replays exactly the durable events it saw after that position: none lost, none
 * repeated, none announced as lost.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

interface Seen {
  seq: string;
  type: string;
  id: number;
  version: number | undefined;
}

const isUpdate = (f: any) => f?.type === "TIMER_UPDATE";
const isDurable = (f: any) => typeof f?.type === "string" && f.type !== "TIMER_UPDATE";
const seen = (f: any): Seen => ({ seq: f.seq, type: f.type, id: f.payload?.id, version: f.version });
/** What a replay must reproduce of a durable frame. */
const key = (s: Seen) => `${s.seq} ${s.type} ${s.id} v${s.version}`;

/** At most `max` of `frames`' indexes: every durable one, the ephemeral ones just before and after each, and an even spread of the rest. */
function sampleIndexes(frames: Seen[], max: number): number[] {
  if (frames.length <= max) return frames.map((_, i) => i);
  const picked = new Set<number>();
  frames.forEach((f, i) => {
    if (f.type === "TIMER_UPDATE") return;
    picked.add(i);
    if (i > 0) picked.add(i - 1);
    if (i + 1 < frames.length) picked.add(i + 1);
  });
  const step = Math.max(1, Math.floor(frames.length / Math.max(1, max - picked.size)));
  for (let i = 0; i < frames.length; i += step) picked.add(i);
  picked.add(0);
  picked.add(frames.length - 1);
  return [...picked].sort((a, b) => a - b);
}

describe.each(MODES)("ephemeral offsets ($name)", (mode) => {
  let app: Tickwire;
  let http: ReturnType<typeof api>;
  let database: Awaited<ReturnType<typeof ownDatabase>> | undefined;

  beforeAll(async () => {
    if (mode.name === "mysql+redis") database = await ownDatabase("offeph");
    app = await startServer(timersEnv(mode, uniquePrefix("off-eph"), database?.url, { TICK_MS: "50" }));
    http = api(app);
  });
  afterAll(async () => {
    await app?.stop();
    await database?.drop();
  });

  it("seqs only increase, and a resume from any of them replays exactly the durable events after it", async () => {
    const sid = uniquePrefix("eph-sess");
    const customer = wsClient(wsUrl(app, `/ws/customer/${encodeURIComponent(sid)}`));
    await customer.opened;

    // Three timers, then changes as fast as the answers come (three chains at once), then a
    // few more each after the customer saw a tick, so that ephemeral and durable frames
    // interleave; a fourth timer, never changed, keeps ticking meanwhile.
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await http.create(sid, 600);
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const metronome = await http.create(sid, 600);
    expect(metronome.status).toBe(201);
    let changes = 0;
    const change = async (id: number, step: number) => {
      const op = step % 3;
      const res = op === 0 ? await http.pause(id) : op === 1 ? await http.resume(id) : await http.modify(id, 600 + step);
      expect(res.status).toBe(200);
      changes++;
    };
    const fastSteps = 9; // per timer: pause, resume, modify × 3
    await Promise.all(
      ids.map(async (id) => {
        for (let step = 0; step < fastSteps; step++) await change(id, step);
      }),
    );
    const updates = () => customer.frames.filter(isUpdate).length;
    for (let step = fastSteps; step < fastSteps + 5; step++) {
      for (const id of ids) {
        const before = updates();
        await customer.collect(before + 1, isUpdate);
        await change(id, step);
      }
    }
    // Every timer ends running (the last step, 13, is a modify after a resume): ticks go on.
    expect(changes).toBe(42);
    const durableCount = ids.length + 1 + changes;
    await customer.collect(durableCount, isDurable, 15_000);
    const lastDurableAt = customer.frames.findLastIndex(isDurable);
    await customer.collect(customer.frames.slice(0, lastDurableAt + 1).filter(isUpdate).length + 3, isUpdate);

    const frames = (customer.frames as any[]).filter((f) => typeof f?.type === "string").map(seen);
    const durable = frames.filter((f) => f.type !== "TIMER_UPDATE");
    expect(durable.length).toBe(durableCount);
    // Ephemeral seqs are `<durable>.<k>`, durable ones are plain `<ms>-<n>`.
    for (const f of frames) expect(f.seq).toMatch(f.type === "TIMER_UPDATE" ? /^\d+-\d+\.\d+$/ : /^\d+-\d+$/);
    // Strictly increasing in delivery order, ephemeral frames included.
    for (let i = 1; i < frames.length; i++) {
      if (compareSeq(frames[i - 1]!.seq, frames[i]!.seq) >= 0) {
        throw new Error(`seq went back at frame ${i}: ${frames[i - 1]!.seq} (${frames[i - 1]!.type}) then ${frames[i]!.seq} (${frames[i]!.type})`);
      }
    }
    // Every change exactly once: each timer's versions are 1, 2, 3, … (create is version 1).
    for (const id of [...ids, metronome.body.id]) {
      const versions = durable.filter((f) => f.id === id).map((f) => f.version);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
    const ephemeralBeforeDurable = frames.filter((f, i) => f.type === "TIMER_UPDATE" && frames[i + 1] && frames[i + 1]!.type !== "TIMER_UPDATE");
    expect(ephemeralBeforeDurable.length).toBeGreaterThanOrEqual(5);

    const indexes = sampleIndexes(frames, 600);
    const problems: string[] = [];
    const resumeFrom = async (i: number) => {
      const since = frames[i]!.seq;
      const expected = durable.filter((f) => compareSeq(f.seq, since) > 0).map(key);
      const fresh: WsTestClient = wsClient(wsUrl(app, `/ws/customer/${encodeURIComponent(sid)}?since=${since}`));
      try {
        await fresh.opened;
        // Ephemeral frames are not sent while history is replayed: the first tick means the
        // replay is over, and no durable event happens any more.
        await fresh.next(isUpdate, 5_000);
        const got = fresh.frames as any[];
        const replayed = got.filter(isDurable).map((f) => key(seen(f)));
        // A tick may reach the customer before the first durable event of a brand-new stream
        // (the outbox appends the create just after its commit): its seq is `0-0.<k>`. Resuming
        // from it, a Redis log cannot tell "before this stream began" from "before a Redis that
        // came back empty", so it says `recovered:false` (the safe side) and still replays all.
        const beforeStream = mode.name === "mysql+redis" && since.startsWith("0-0.");
        const control = got.filter((f) => f?.op !== undefined && !(beforeStream && f.op === "recovered" && f.recovered === false));
        const seqs = got.filter((f) => typeof f?.seq === "string").map((f) => f.seq as string);
        const ordered = seqs.every((s, j) => compareSeq(s, j === 0 ? since : seqs[j - 1]!) > 0);
        if (JSON.stringify(replayed) !== JSON.stringify(expected) || control.length > 0 || !ordered) {
          problems.push(
            `since=${since} (frame ${i}, ${frames[i]!.type}): expected ${expected.length} durable [${expected.slice(0, 3).join(", ")}…], got ${replayed.length} [${replayed.slice(0, 3).join(", ")}…]; control frames ${JSON.stringify(control)}; seqs ${ordered ? "increasing" : `not increasing after since: ${seqs.slice(0, 4).join(", ")}`}`,
          );
        }
      } finally {
        fresh.close();
      }
    };
    for (let at = 0; at < indexes.length; at += 25) await Promise.all(indexes.slice(at, at + 25).map(resumeFrom));
    expect(problems.slice(0, 10)).toEqual([]);
    customer.close();
  });
});
