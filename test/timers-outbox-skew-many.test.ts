/**
 * A dead writer whose clock ran ahead left several outbox rows (found by review of 13f1a83,
 * 2026-12-04): "first seen" was recorded only up to the first row waited for, so each row was
 * first seen once the one before it was published, and N rows took N × claimAfterMs, holding
 * back every later row that long. Every row of a batch is seen at once now.
 */
import { expect, it } from "bun:test";
import { VirtualClock } from "../src/core/virtual-clock.ts";
import { OutboxPublisher } from "../src/features/timers/outbox-publisher.ts";
import type { OutboxRow, TimerStore } from "../src/features/timers/timer-store.ts";
import { silentLogger } from "../src/log.ts";

it("takes over all of a skewed dead writer's rows claimAfterMs after first seeing them", async () => {
  const clock = new VirtualClock(1_700_000_000_000);
  const ahead = clock.now() + 3_600_000; // the dead writer's clock ran an hour ahead
  const row = (id: number, instance: string, createdAt: number): OutboxRow => ({
    id,
    eventId: `e${id}`,
    timerId: id,
    version: 2,
    type: "TIMER_PAUSE",
    payload: "{}",
    instance,
    createdAt,
  });
  let rows: OutboxRow[] = [1, 2, 3, 4, 5].map((i) => row(i, "dead", ahead)).concat([row(6, "me", clock.now())]);
  const published: number[] = [];
  const store = {
    outbox: async (n: number) => rows.slice(0, n),
    removeOutbox: async (ids: number[]) => void (rows = rows.filter((r) => !ids.includes(r.id))),
  } as unknown as TimerStore;
  const hub = { append: async (_t: string, body: { eventId: string }) => void published.push(Number(body.eventId.slice(1))) };
  const outbox = new OutboxPublisher({ store, hub: hub as never, clock, log: silentLogger, instance: "me", claimAfterMs: 2000, sweepMs: 1_000_000 });
  await outbox.kick(); // first sight of all six rows
  expect(published).toEqual([]);
  clock.stall(2000); // claimAfterMs later by the survivor's clock
  await outbox.kick();
  await outbox.stop();
  // Every row was in sight for claimAfterMs: all go out, in order.
  expect(published).toEqual([1, 2, 3, 4, 5, 6]);
});
