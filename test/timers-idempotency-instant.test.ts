/**
 * A keyed change's stored answer is the body its first response returned (found by review,
 * fixed 2026-12-05). Both were rendered at two instants: the answer before the write, the
 * response after it (and after the hot-state write), so a running timer's `currentTime` could
 * cross a second in between and a replay answered one second less than the first response.
 * The store here takes its time (a virtual clock moves while it answers).
 */
import { afterAll, describe, expect, it } from "bun:test";
import { Hub } from "../src/core/hub.ts";
import { MemoryTopicLog } from "../src/core/memory-topic-log.ts";
import { VirtualClock } from "../src/core/virtual-clock.ts";
import { idempotent } from "../src/features/timers/idempotency.ts";
import { type Idempotency, TimerService } from "../src/features/timers/timer-service.ts";
import type { TimerView } from "../src/features/timers/timer-state.ts";
import type { TimerStore } from "../src/features/timers/timer-store.ts";
import { timerStoreFor } from "../src/features/timers/timer-store-for.ts";
import { type Database, openDatabase } from "../src/infra/db/database.ts";
import { silentLogger } from "../src/log.ts";
import { ownDatabase } from "./timers-support.ts";

const T0 = 1_700_000_000_000;
type Req = Parameters<typeof idempotent>[0];

describe.each(["sqlite", "mysql"] as const)("a replayed answer is the first response (%s)", (dialect) => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function service() {
    let db: Database;
    if (dialect === "sqlite") db = await openDatabase("sqlite::memory:");
    else {
      const own = await ownDatabase("idemins");
      cleanups.push(() => own.drop());
      db = await openDatabase(own.url);
    }
    cleanups.push(() => db.close());
    const clock = new VirtualClock(T0);
    const inner = timerStoreFor(db);
    // The store call named `slow` moves the clock while it answers.
    let slow: string | undefined;
    const store = new Proxy(inner, {
      get: (target, prop) => {
        const f = (target as unknown as Record<PropertyKey, unknown>)[prop];
        if (typeof f !== "function") return f;
        return async (...args: unknown[]) => {
          const r = await f.apply(target, args);
          if (prop === slow) clock.stall(prop === "insert" ? 1200 : 700);
          return r;
        };
      },
    }) as TimerStore;
    const log = new MemoryTopicLog({ historySize: 100, clock });
    const hub = new Hub({ log, clock, durableRoots: ["timers"] });
    const svc = new TimerService({ store, hub, clock, log: silentLogger, instance: "i1" });
    return { clock, svc, slowDown: (p: string) => (slow = p) };
  }

  const send = async (req: Req, svc: TimerService, status: number, run: (idem?: Idempotency) => Promise<TimerView>, body?: unknown) => {
    const r = await idempotent(req, undefined, svc, body, { status, render: (v) => v, run });
    return { status: r.status, replayed: r.headers.get("idempotent-replayed"), body: await r.json() };
  };
  const put = (path: string, key: string) => new Request(`http://x${path}`, { method: "PUT", headers: { "Idempotency-Key": key } }) as unknown as Req;

  it("resume of a running timer (nothing to write)", async () => {
    const { clock, svc, slowDown } = await service();
    const t = await svc.create("s", 600);
    clock.stall(10_500);
    slowDown("keep");
    const first = await send(put(`/timer/${t.id}/resume`, "R-1"), svc, 200, (idem) => svc.resume(t.id, idem));
    const retry = await send(put(`/timer/${t.id}/resume`, "R-1"), svc, 200, (idem) => svc.resume(t.id, idem));
    expect(retry).toEqual({ ...first, replayed: "true" });
  });

  it("resume of a paused timer (a write)", async () => {
    const { clock, svc, slowDown } = await service();
    const t = await svc.create("s", 600);
    clock.stall(10_500);
    await svc.pause(t.id);
    slowDown("update");
    const first = await send(put(`/timer/${t.id}/resume`, "R-2"), svc, 200, (idem) => svc.resume(t.id, idem));
    const retry = await send(put(`/timer/${t.id}/resume`, "R-2"), svc, 200, (idem) => svc.resume(t.id, idem));
    expect(retry).toEqual({ ...first, replayed: "true" });
  });

  it("create", async () => {
    const { clock, svc, slowDown } = await service();
    slowDown("insert");
    clock.stall(300);
    const req = new Request("http://x/timer", { method: "POST", headers: { "Idempotency-Key": "C-1" } }) as unknown as Req;
    const body = { sessionId: "s", maxTime: 600 };
    const first = await send(req, svc, 201, (idem) => svc.create("s", 600, idem), body);
    slowDown("none");
    const retry = await send(req, svc, 201, (idem) => svc.create("s", 600, idem), body);
    expect(retry).toEqual({ ...first, replayed: "true" });
  });
});
