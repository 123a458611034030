/**
 * One query (or transaction) on a pool connection taken for it alone, given up after a deadline.
 *
 * mysql2 has no query timeout that frees the connection: a query raced against a timer kept its
 * connection checked out for as long as the server did not answer. A partition (a path that
 * drops every packet: no RST, no FIN) so left all the pool's connections stuck for good, every
 * later query queued behind them, and `pool.end()` waited on them forever. A lease that runs out
 * destroys its connection instead (the pool opens a fresh one for the next in line); a lease
 * still waiting for a connection is abandoned, and the connection it is handed later goes back
 * to the pool unused, its work never run.
 *
 * Only types come from mysql2 here: the embedded mode never loads the driver.
 * @module
 */
import type { Pool, PoolConnection } from "mysql2";
import { LeaseConnectError, LeaseTimeoutError } from "./lease-timeout.ts";

/** What mysql2's connection holds beyond its typings: the socket. */
type Socketed = PoolConnection & { stream?: { destroy?: () => void; once?: (event: "close", listener: () => void) => void } };

/**
 * Takes `conn` out of the pool and closes its socket at once. mysql2's `destroy()` only
 * half-closes it (`end()`), and on a dead path nothing ever answers that FIN: the socket, and its
 * file descriptor, would stay until the kernel gives up on it many minutes later.
 */
function destroyConnection(conn: PoolConnection): void {
  conn.destroy();
  (conn as Socketed).stream?.destroy?.();
}

/**
 * Runs `work` on a connection of `pool`, released when it settles, destroyed if it has not
 * within `timeoutMs` ({@link LeaseTimeoutError}). A failure to get a connection (refused,
 * queue full, pool closed, a handshake that timed out) rejects with {@link LeaseConnectError}.
 */
function lease<T>(pool: Pool, timeoutMs: number, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let conn: PoolConnection | undefined;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      if (conn) destroyConnection(conn);
      reject(new LeaseTimeoutError(`no answer within ${timeoutMs} ms`, conn !== undefined));
    }, timeoutMs);
    const settle = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // A connection a fatal error broke has left the pool already; releasing it does nothing.
      conn?.release();
      outcome();
    };
    pool.getConnection((error, c) => {
      if (done) {
        // Abandoned while it waited in the pool's queue: the connection goes back unused.
        if (!error) c.release();
        return;
      }
      if (error) return settle(() => reject(new LeaseConnectError(error)));
      conn = c;
      Promise.resolve()
        .then(() => work(c))
        .then(
          (value) => settle(() => resolve(value)),
          (failure: unknown) => settle(() => reject(failure)),
        );
    });
  });
}

/**
 * How long {@link Leases.end} lets queries in flight finish. Requests were drained before; what is
 * still running then is housekeeping, or stuck, and the process has 5 s to exit (`main.ts`).
 */
const CLOSE_WAIT_MS = 1000;

/** Leases on `pool`, each with a `D` (a Drizzle handle) of its connection, made once per connection. */
export class Leases<D> {
  /** Every connection whose socket is open, for {@link end} to destroy the ones a dead path holds. */
  readonly #open = new Set<PoolConnection>();
  readonly #on = new WeakMap<PoolConnection, D>();

  /**
   * @param idleTransactionMs how long the server lets a session sit idle inside a transaction
   *   before it kills it (MariaDB's `idle_transaction_timeout`, whole seconds, rounded up; MySQL
   *   has none and keeps its `wait_timeout`). A lease that runs out destroys its socket, but on a
   *   dead path the server never hears of it: it would keep the half-done transaction and its
   *   row locks for `wait_timeout` (8 h by default), every later change of those rows waiting on
   *   them after the path healed. No live lease idles that long: a lease lasts `timeoutMs` at most.
   */
  constructor(
    private readonly pool: Pool,
    private readonly wrap: (conn: PoolConnection) => D,
    idleTransactionMs?: number,
  ) {
    pool.on("connection", (conn) => {
      this.#open.add(conn);
      (conn as Socketed).stream?.once?.("close", () => this.#open.delete(conn));
      // Queued ahead of the connection's first work; refused (no such variable) where unsupported.
      if (idleTransactionMs !== undefined) conn.query(`SET SESSION idle_transaction_timeout = ${Math.max(1, Math.ceil(idleTransactionMs / 1000))}`, () => {});
    });
  }

  run<T>(timeoutMs: number, work: (on: D) => Promise<T>): Promise<T> {
    return lease(this.pool, timeoutMs, (conn) => {
      let on = this.#on.get(conn);
      if (!on) this.#on.set(conn, (on = this.wrap(conn)));
      return work(on);
    });
  }

  /**
   * Ends the pool; a connection still busy after `waitMs` (at most {@link CLOSE_WAIT_MS}) is
   * destroyed: on a dead path its query never answers, and `pool.end()` would wait for good.
   */
  async end(waitMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), Math.min(waitMs, CLOSE_WAIT_MS))));
    const ended = this.pool.promise().end();
    ended.catch(() => {}); // Reported by the race below, or too late to matter.
    try {
      if ((await Promise.race([ended, late])) === "late") for (const conn of this.#open) destroyConnection(conn);
    } finally {
      clearTimeout(timer);
    }
  }
}
