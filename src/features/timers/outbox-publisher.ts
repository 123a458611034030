/**
 * The outbox publisher: moves committed timer events from the database's `timer_outbox` to the
 * durable `timers` log, in id order, and deletes a row only once the log acknowledged it. Appends
 * are idempotent by event id, so a row published twice (a crash between the append and the
 * delete, or two instances taking the same row) reaches subscribers once.
 *
 * Every instance drains the outbox in id order: its own rows at once (a change kicks it), another
 * instance's rows once they are `claimAfterMs` old (their writer may have died). Another
 * instance's young row holds back every later row until its writer has published it (a pass
 * is retried every 20 ms meanwhile), so events keep their commit order whoever publishes them. A
row's age is by the writer's clock (`createdAt`) or since this instance first saw it, whichever
is more: a dead writer whose clock ran ahead would otherwise hold back every later row for as
long as its skew. While the log is down
 * nothing is deleted; the sweep retries, oldest first, so events go out in order once it is back.
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import type { Hub } from "../../core/hub.ts";
import type { Logger } from "../../log.ts";
import { TIMERS_TOPIC } from "./timer-events.ts";
import type { OutboxRow, TimerStore } from "./timer-store.ts";

export interface OutboxOptions {
  store: TimerStore;
  hub: Hub;
  clock: Clock;
  log: Logger;
  /** This instance's id, as written in its outbox rows. */
  instance: string;
  /** Another instance's rows are taken over once this old (ms). */
  claimAfterMs?: number;
  /** How often the outbox is swept without a kick (ms): others' rows, retries after a failure. */
  sweepMs?: number;
  /** Rows read (and appended at once) per pass; under the log's in-flight limit (64 at least). */
  batch?: number;
  /** Counts an append that failed and will be retried. */
  onRetry?: () => void;
  /** Runs at most every `housekeepingMs` from the sweep (e.g. purging old idempotent answers). */
  housekeeping?: () => Promise<void>;
  housekeepingMs?: number;
}

export class OutboxPublisher {
  readonly #o: Required<Omit<OutboxOptions, "onRetry" | "housekeeping">> & Pick<OutboxOptions, "onRetry" | "housekeeping">;
  #draining: Promise<void> | undefined;
  #again = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #failing = false;
  #lastHousekeeping = 0;
  #stopped = false;
  #soon: ReturnType<typeof setTimeout> | undefined;
  /** When this instance first saw each of the other instances' rows it waits for (by its clock). */
  #firstSeen = new Map<number, number>();

  constructor(opts: OutboxOptions) {
    this.#o = { claimAfterMs: 2000, sweepMs: 1000, batch: 64, housekeepingMs: 10 * 60_000, ...opts };
  }

  /** Publishes every pending row, then sweeps every `sweepMs`. */
  start(): Promise<void> {
    this.#sweeper = setInterval(() => this.#sweep(), this.#o.sweepMs);
    return this.kick();
  }

  /** Asks for a pass soon (after a commit); resolves when the pass that covers it has run. */
  kick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#draining) {
      this.#again = true;
      return this.#draining;
    }
    this.#draining = this.#drain().finally(() => (this.#draining = undefined));
    return this.#draining;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#sweeper);
    clearTimeout(this.#soon);
    await this.#draining;
  }

  #sweep(): void {
    void this.kick();
    const now = this.#o.clock.now();
    if (this.#o.housekeeping && now - this.#lastHousekeeping >= this.#o.housekeepingMs) {
      this.#lastHousekeeping = now;
      this.#o.housekeeping().catch((err: unknown) => this.#o.log.warn({ err: String(err) }, "timers: outbox housekeeping failed"));
    }
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      let more: boolean;
      try {
        more = await this.#pass();
      } catch (error) {
        // The database is unreachable: the sweep tries again.
        this.#o.log.warn({ err: String(error) }, "timers: outbox read failed; retrying");
        return;
      }
      if (more) this.#again = true;
    } while (this.#again && !this.#stopped);
  }

  /** One pass over the oldest rows; `true` if a full batch was published (read again). */
  async #pass(): Promise<boolean> {
    const rows = await this.#o.store.outbox(this.#o.batch);
    const now = this.#o.clock.now();
    // Rows up to the first young row of another instance: commit order is kept across
    // instances, so that row is its writer's to publish (it is probably doing so now); wait for it
    // rather than overtake it.
    let ready = rows.length;
    const seen = new Map<number, number>();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.instance === this.#o.instance) continue;
      const firstSeen = this.#firstSeen.get(row.id) ?? now;
      seen.set(row.id, firstSeen);
      // Every row of the batch is seen now, not only up to the first young one: a dead writer's
      // rows then wait out `claimAfterMs` together, not one after another.
      if (ready === rows.length && now - Math.min(row.createdAt, firstSeen) < this.#o.claimAfterMs) {
        ready = i;
        this.#retrySoon();
      }
    }
    // Only the rows still waited for: the map stays within one batch.
    this.#firstSeen = seen;
    // All appends at once: one connection runs them in the order sent, so the log keeps the
    // outbox's order, and a pass costs one round trip instead of one per row. Only a prefix that
    // all succeeded is deleted; the rest is sent again, in order (appends are idempotent).
    const results = await Promise.all(rows.slice(0, ready).map((row) => this.#publish(row)));
    const failed = results.indexOf(false);
    const published = rows.slice(0, failed === -1 ? ready : failed).map((row) => row.id);
    await this.#o.store.removeOutbox(published);
    return failed === -1 && ready === rows.length && rows.length === this.#o.batch;
  }

  /** Another pass shortly, while an older row of another instance holds the rest back. */
  #retrySoon(): void {
    if (this.#soon || this.#stopped) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.kick();
    }, 20);
  }

  async #publish(row: OutboxRow): Promise<boolean> {
    const body = { type: row.type, payload: JSON.parse(row.payload) as unknown, eventId: row.eventId, version: row.version };
    try {
      await this.#o.hub.append(TIMERS_TOPIC, body, { eventId: row.eventId });
      if (this.#failing) this.#o.log.info({ eventId: row.eventId }, "timers: outbox publishing again");
      this.#failing = false;
      return true;
    } catch (error) {
      this.#o.onRetry?.();
      if (!this.#failing) this.#o.log.warn({ err: String(error), eventId: row.eventId }, "timers: the log refused an outbox event; kept, retrying in order");
      this.#failing = true;
      return false;
    }
  }
}
