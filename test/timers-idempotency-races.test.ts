/**
 * Idempotency-Key edges of the timer changes (found by review, 2026-12-04): a duplicate keyed
 * request that ran behind the first (a slow database) answered 404 or 409 for a change that had
 * committed under its key; the same body with its fields in another order counted as another
 * request. Each now gets the stored answer.
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { Hub } from "../src/core/hub.ts";
import { MemoryTopicLog } from "../src/core/memory-topic-log.ts";
import { VirtualClock } from "../src/core/virtual-clock.ts";
import { idempotent } from "../src/features/timers/idempotency.ts";
import { TimerService } from "../src/features/timers/timer-service.ts";
import type { TimerStore } from "../src/features/timers/timer-store.ts";
import { timerStoreFor } from "../src/features/timers/timer-store-for.ts";
import type { HttpError } from "../src/http/errors.ts";
import { openDatabase } from "../src/infra/db/database.ts";
import { silentLogger } from "../src/log.ts";
import type { Tickwire } from "../src/main.ts";
import { startServer } from "./support/server.ts";

let app: Tickwire;
beforeAll(async () => {
  app = await startServer({ TICK_MS: "100" });
});
afterAll(async () => app.stop());

/** A SQLite store whose next write waits for `release()` (a slow database). */
function gatedStore(inner: TimerStore) {
  let gate: Promise<void> | undefined;
  let release = () => {};
  let entered = () => {};
  const wrap =
    <K extends "update" | "delete">(name: K) =>
    async (...args: Parameters<TimerStore[K]>) => {
      if (gate) {
        const g = gate;
        gate = undefined;
        entered();
        await g;
      }
      return (inner[name] as (...a: unknown[]) => Promise<boolean>)(...args);
    };
  const overrides: Record<string, unknown> = { update: wrap("update"), delete: wrap("delete") };
  const store = new Proxy(inner, {
    get: (target, prop) => overrides[prop as string] ?? (target as any)[prop].bind(target),
  }) as TimerStore;
  return {
    store,
    hold(): Promise<void> {
      gate = new Promise<void>((r) => (release = r));
      return new Promise<void>((r) => (entered = r));
    },
    release: () => release(),
  };
}

async function service() {
  const clock = new VirtualClock(1_700_000_000_000);
  const db = await openDatabase("sqlite::memory:");
  const gated = gatedStore(timerStoreFor(db));
  const log = new MemoryTopicLog({ historySize: 100, clock });
  const hub = new Hub({ log, clock, durableRoots: ["timers"] });
  const svc = new TimerService({ store: gated.store, hub, clock, log: silentLogger, instance: "i1" });
  return { clock, svc, gated, db };
}

const keyed = (method: string, path: string, key: string) =>
  new Request(`http://x${path}`, { method, headers: { "Idempotency-Key": key } }) as unknown as Parameters<typeof idempotent>[0];

const outcome = (p: Promise<Response>) =>
  p.then(
    async (r) => ({ status: r.status, replayed: r.headers.get("idempotent-replayed") }),
    (e: HttpError) => ({ status: e.status, code: e.code }),
  );

it("two requests with one key in flight together: stop gives the duplicate the stored answer, not 404", async () => {
  const { svc, gated } = await service();
  const t = await svc.create("s", 600);
  const stop = { status: 200, render: () => ({ message: "Timer stopped and deleted" }), run: (idem: any) => svc.stop(t.id, idem) };
  const entered = gated.hold();
  const a = outcome(idempotent(keyed("PUT", `/timer/${t.id}/stop`, "K-2"), undefined, svc, undefined, stop));
  await entered; // A's delete is at the database
  const b = outcome(idempotent(keyed("PUT", `/timer/${t.id}/stop`, "K-2"), undefined, svc, undefined, stop)); // the client's retry
  await Promise.resolve();
  gated.release();
  const [ra, rb] = await Promise.all([a, b]);
  console.log("stop A", ra, "B", rb);
  expect(ra.status).toBe(200);
  expect(rb).toMatchObject({ status: 200 }); // same key, same request: the same answer
});

it("two requests with one key in flight together: a finishing modify gives the duplicate the stored answer, not 409", async () => {
  const { svc, gated, clock } = await service();
  const t = await svc.create("s", 600);
  clock.stall(5000);
  const modify = { status: 200, render: (v: unknown) => v, run: (idem: any) => svc.modify(t.id, 2, idem) };
  const entered = gated.hold();
  const a = outcome(idempotent(keyed("PUT", `/timer/${t.id}/modify`, "K-3"), undefined, svc, { maxTime: 2 }, modify));
  await entered;
  const b = outcome(idempotent(keyed("PUT", `/timer/${t.id}/modify`, "K-3"), undefined, svc, { maxTime: 2 }, modify));
  await Promise.resolve();
  gated.release();
  const [ra, rb] = await Promise.all([a, b]);
  console.log("modify A", ra, "B", rb);
  expect(ra.status).toBe(200);
  expect(rb).toMatchObject({ status: 200 });
});

it("HTTP (embedded): the same body with its fields in another order is the same request", async () => {
  const raw = async (body: string) => {
    const res = await fetch(`${app.url}/timer`, { method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": "K-4" }, body });
    return { status: res.status, body: (await res.json()) as any };
  };
  const first = await raw('{"sessionId":"idem4","maxTime":60}');
  const retry = await raw('{"maxTime":60,"sessionId":"idem4"}');
  console.log(first.status, retry.status, JSON.stringify(retry.body));
  expect(first.status).toBe(201);
  expect(retry.status).toBe(201);
});
