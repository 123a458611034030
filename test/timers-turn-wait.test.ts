/**
 * Changes to one timer do not wait for each other's full timeout (found by review, fixed
 * 2026-12-05). They run one after another (`keyed-serial.ts`); with the database hanging, the
 * k-th of k concurrent changes was answered after about k query timeouts, and the chain grew
 * with every request. Now a change whose turn has not come one `DB_QUERY_TIMEOUT_MS` after it
 * came is refused with 503 `unavailable`, and skipped (never run) when its turn comes.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { VirtualClock } from "../src/core/virtual-clock.ts";
import { KeyedSerial } from "../src/features/timers/keyed-serial.ts";
import type { Tickwire } from "../src/main.ts";
import { DedicatedMariaDb } from "./support/dedicated-mariadb.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";
import { api } from "./timers-support.ts";

describe("KeyedSerial with a bounded wait", () => {
  it("refuses a task whose turn has not come in time, and never runs it", async () => {
    const clock = new VirtualClock();
    const serial = new KeyedSerial<number>(clock);
    const ran: string[] = [];
    const gate = Promise.withResolvers<void>();
    const first = serial.run(1, () => gate.promise.then(() => void ran.push("first")));
    const wait = { ms: 500, late: () => new Error("late") };
    const second = serial.run(1, async () => void ran.push("second"), wait);
    const outcome = second.then(
      () => "ran",
      (e: Error) => e.message,
    );
    clock.advance(500);
    expect(await outcome).toBe("late");
    gate.resolve();
    await first;
    // Queued after the late one: runs as soon as the first is done.
    await serial.run(1, async () => void ran.push("third"), wait);
    expect(ran).toEqual(["first", "third"]);
  });

  it("keeps a task that starts in time", async () => {
    const clock = new VirtualClock();
    const serial = new KeyedSerial<number>(clock);
    const gate = Promise.withResolvers<void>();
    void serial.run(1, () => gate.promise);
    const second = serial.run(1, async () => "second", { ms: 500, late: () => new Error("late") });
    clock.advance(499);
    gate.resolve();
    expect(await second).toBe("second");
    clock.advance(1000);
    expect(clock.nextDue).toBeUndefined();
  });
});

describe("while the database hangs", () => {
  const TIMEOUT = 500;
  const maria = new DedicatedMariaDb();
  let app: Tickwire;
  beforeAll(async () => {
    await maria.start();
    app = await startServer({ DATABASE_URL: maria.url, TICK_MS: "100", DB_QUERY_TIMEOUT_MS: String(TIMEOUT), WS_PUBLISHES_PER_SECOND: "100" });
  }, 60_000);
  afterAll(async () => {
    maria.cont();
    await app?.stop();
    await maria.dispose();
  });

  it("answers every change of one timer within about two query timeouts", async () => {
    const t = api(app);
    const id = (await t.create("turns", 600)).body.id as number;
    const gm = wsClient(wsUrl(app, "/ws/gamemaster/turns"));
    await gm.opened;
    maria.stop();
    try {
      const started = performance.now();
      const timed = async (p: Promise<{ status: number; body: { code?: string } }>) => {
        const r = await p;
        return { status: r.status, code: r.body.code, ms: performance.now() - started };
      };
      const gmReply = (async () => {
        gm.send({ type: "TIMER_MODIFY", payload: { id, maxTime: 700 }, ref: "m" });
        const f = await gm.next((x) => x.ref === "m", 30_000);
        return { status: f.code as number, code: undefined, ms: performance.now() - started };
      })();
      const answers = await Promise.all([...Array.from({ length: 8 }, (_, i) => timed(i % 2 ? t.resume(id) : t.pause(id))), gmReply]);
      // One query timeout waiting for its turn, at most one more for its own query.
      expect(answers.filter((a) => a.ms > 3 * TIMEOUT)).toEqual([]);
      // Most never got their turn: refused, nothing changed.
      expect(answers.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(6);
    } finally {
      gm.close();
      maria.cont();
    }
  }, 60_000);
});
