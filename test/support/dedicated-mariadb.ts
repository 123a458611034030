/**
 * A DEDICATED, throwaway MariaDB for fault tests: its own data folder (one `mariadb-install-db`
 * per instance, a few seconds, so one per test file) and its own port, so that stopping or
 * killing it never touches the machine's shared server:
 *
 *   const db = new DedicatedMariaDb();
 *   await db.start();      // installs on first start; `root` without password, database `test`
 *   … DATABASE_URL: db.url …
 *   db.stop(); db.cont();  // SIGSTOP / SIGCONT: a server that hangs, then carries on
 *   await db.kill();       // SIGKILL: a crash (InnoDB recovers on the next start)
 *   await db.restart();    // kill, then start on the same port and data
 *   await db.dispose();    // in afterAll: killed and its data folder removed
 *
 * Readiness is a real connection answering `SELECT 1`, polled with `until`.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection, type RowDataPacket } from "mysql2/promise";
import { exitedEarly, freePort } from "./dedicated-redis.ts";
import { until } from "./until.ts";

/** mariadbd refuses to run as root unless told to; as anyone else it runs as that user. */
const AS_ROOT = process.getuid?.() === 0 ? ["--user=root"] : [];

/** Small InnoDB files: a fast install and start. The same for install and server (ibdata1's size must match). */
const INNODB = ["--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M", "--innodb-data-file-path=ibdata1:12M:autoextend"];

export class DedicatedMariaDb {
  proc: ReturnType<typeof Bun.spawn> | undefined;
  /** Holds `data/` (the datadir), the socket, the pid file and the error log. */
  readonly dir = mkdtempSync(join(tmpdir(), "tw-mariadb-"));
  #installed = false;

  constructor(readonly port: number = freePort()) {}

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/test`;
  }

  get #datadir(): string {
    return join(this.dir, "data");
  }

  /** The end of the server's error log, for failure messages. */
  errorLog(lines = 20): string {
    try {
      return readFileSync(join(this.dir, "error.log"), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no error log)";
    }
  }

  async #install(): Promise<void> {
    const install = Bun.spawn(
      [
        "mariadb-install-db",
        "--no-defaults",
        `--datadir=${this.#datadir}`,
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        "--skip-name-resolve",
        ...AS_ROOT,
        ...INNODB,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([new Response(install.stdout).text(), new Response(install.stderr).text(), install.exited]);
    if (code !== 0) throw new Error(`mariadb-install-db exited with ${code}: ${err || out}`);
    this.#installed = true;
  }

  /** Starts mariadbd (installing the data folder first, once) and resolves once `test` exists and answers. */
  async start(): Promise<void> {
    if (this.proc) throw new Error(`mariadbd on ${this.port} is already running`);
    if (!this.#installed) await this.#install();
    const proc = Bun.spawn(
      [
        "mariadbd",
        "--no-defaults",
        `--datadir=${this.#datadir}`,
        `--port=${this.port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(this.dir, "sock")}`,
        `--pid-file=${join(this.dir, "mariadbd.pid")}`,
        `--log-error=${join(this.dir, "error.log")}`,
        ...AS_ROOT,
        "--skip-name-resolve",
        "--skip-log-bin",
        ...INNODB,
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    this.proc = proc;
    const ready = until(
      async () => {
        const conn = await createConnection({ host: "127.0.0.1", port: this.port, user: "root", connectTimeout: 1000 });
        try {
          await conn.query("CREATE DATABASE IF NOT EXISTS test");
          return true;
        } finally {
          await conn.end();
        }
      },
      { message: () => `mariadbd to answer on ${this.port}; error log:\n${this.errorLog()}`, intervalMs: 50, timeoutMs: 15_000 },
    );
    try {
      await Promise.race([ready, exitedEarly(proc, `mariadbd on ${this.port}`, () => this.errorLog())]);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** SIGSTOP: the server hangs; connections stay open, queries get no answer. */
  stop(): void {
    this.proc?.kill("SIGSTOP");
  }

  /** SIGCONT: a stopped server carries on (and runs what was sent to it meanwhile). */
  cont(): void {
    this.proc?.kill("SIGCONT");
  }

  /** SIGKILL (also of a stopped server): a crash. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc) return;
    proc.kill(9);
    await proc.exited;
  }

  /** A crash and a new start on the same port and data. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Kills the server and removes its data folder; for afterAll. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** One query on a fresh connection to `test` (so a stopped server is noticed by the caller, not a pool). */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const conn = await createConnection({ host: "127.0.0.1", port: this.port, user: "root", database: "test", connectTimeout: 2000 });
    try {
      const [rows] = await conn.query<RowDataPacket[]>(sql, params);
      return rows as T[];
    } finally {
      await conn.end();
    }
  }
}
