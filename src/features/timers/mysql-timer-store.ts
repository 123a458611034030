/**
 * Timers in MySQL / MariaDB through Drizzle over a mysql2 pool. MySQL has no `RETURNING`, so
 * inserts read the new id with `$returningId()`; conditional writes count `affectedRows`
 * (every write bumps `version`, so a matched row is always a changed row).
 *
 * Connection failures become {@link StoreUnavailableError} (503 for requests). A query that
 * hangs (server stopped mid-query, network partition) is abandoned after `queryTimeoutMs`.
 * @module
 */
import { and, eq } from "drizzle-orm";
import type { MysqlDb } from "../../infra/db/database.ts";
import { timers } from "../../infra/db/schema-mysql.ts";
import type { TimerState } from "./timer-state.ts";
import { StoreUnavailableError, type TimerStore } from "./timer-store.ts";

/** mysql2 error codes that mean "the server is not there", not "the query is wrong". */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "POOL_CLOSED",
  "POOL_ENQUEUELIMIT",
]);

function connectionCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return code;
    if ((e as { fatal?: unknown }).fatal === true) return typeof code === "string" ? code : "fatal";
  }
  return undefined;
}

export class MysqlTimerStore implements TimerStore {
  constructor(
    private readonly db: MysqlDb,
    private readonly queryTimeoutMs: number,
  ) {}

  insert(timer: Omit<TimerState, "id">): Promise<TimerState> {
    return this.#run("insert", async () => {
      const [row] = await this.db.insert(timers).values(timer).$returningId();
      return { ...timer, id: row!.id };
    });
  }

  update(timer: TimerState, expectedVersion: number): Promise<boolean> {
    return this.#run("update", async () => {
      const { id, ...fields } = timer;
      const [result] = await this.db
        .update(timers)
        .set(fields)
        .where(and(eq(timers.id, id), eq(timers.version, expectedVersion)));
      return result.affectedRows === 1;
    });
  }

  delete(id: number): Promise<boolean> {
    return this.#run("delete", async () => {
      const [result] = await this.db.delete(timers).where(eq(timers.id, id));
      return result.affectedRows === 1;
    });
  }

  get(id: number): Promise<TimerState | undefined> {
    return this.#run("select", async () => {
      const rows = await this.db.select().from(timers).where(eq(timers.id, id));
      return rows[0];
    });
  }

  all(): Promise<TimerState[]> {
    return this.#run("select", () => this.db.select().from(timers));
  }

  async #run<T>(what: string, query: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`database did not answer a timer ${what} within ${this.queryTimeoutMs} ms`)),
        this.queryTimeoutMs,
      );
    });
    try {
      return await Promise.race([query(), timeout]);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      const code = connectionCode(error);
      if (code) throw new StoreUnavailableError(`database unreachable (${code}) during a timer ${what}`, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
