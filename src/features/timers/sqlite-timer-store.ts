/**
 * Timers in the embedded SQLite file through Drizzle over `bun:sqlite`. Queries are
 * synchronous underneath (microseconds for these one-row statements), so there is no timeout
 * and no "unavailable" state: the file is always there.
 * @module
 */
import { and, eq } from "drizzle-orm";
import type { SqliteDb } from "../../infra/db/database.ts";
import { timers } from "../../infra/db/schema-sqlite.ts";
import type { TimerState } from "./timer-state.ts";
import type { TimerStore } from "./timer-store.ts";

export class SqliteTimerStore implements TimerStore {
  constructor(private readonly db: SqliteDb) {}

  async insert(timer: Omit<TimerState, "id">): Promise<TimerState> {
    const row = this.db.insert(timers).values(timer).returning().get();
    return row!;
  }

  async update(timer: TimerState, expectedVersion: number): Promise<boolean> {
    const { id, ...fields } = timer;
    const rows = this.db
      .update(timers)
      .set(fields)
      .where(and(eq(timers.id, id), eq(timers.version, expectedVersion)))
      .returning({ id: timers.id })
      .all();
    return rows.length === 1;
  }

  async delete(id: number): Promise<boolean> {
    return this.db.delete(timers).where(eq(timers.id, id)).returning({ id: timers.id }).all().length === 1;
  }

  async get(id: number): Promise<TimerState | undefined> {
    return this.db.select().from(timers).where(eq(timers.id, id)).get();
  }

  async all(): Promise<TimerState[]> {
    return this.db.select().from(timers).all();
  }
}
