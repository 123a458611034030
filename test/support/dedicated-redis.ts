/**
 * A DEDICATED redis-server for fault tests, on a port of its own, so that killing it never
 * touches the machine's shared Redis:
 *
 *   const redis = new DedicatedRedis(freePort(), { persistent: true });
 *   await redis.start();   // … redis.url …
 *   await redis.kill();    // SIGKILL, like a crash
 *   await redis.start();   // the same port (and, when persistent, the same data)
 *   await redis.dispose(); // in afterAll: killed and its data folder removed
 *
 * Without `persistent` it keeps nothing on disk (`--save "" --appendonly no`): a restart comes
 * back empty. With it, every write is in an append-only file fsynced before the reply
 * (`--appendonly yes --appendfsync always`), so what Redis acknowledged survives `kill -9`.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "./until.ts";

/** A free TCP port, found by listening on port 0. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Whether something accepts TCP connections on `port` right now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = connect(port, "127.0.0.1");
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("error", () => resolve(false));
  });
}

/** Rejects when `proc` exits (while the caller awaits something else from it). */
export function exitedEarly(proc: { exited: Promise<number> }, what: string, stderr?: () => string): Promise<never> {
  return proc.exited.then((code) => {
    throw new Error(`${what} exited with code ${code} before it was ready${stderr ? `: ${stderr()}` : ""}`);
  });
}

export interface DedicatedRedisOptions {
  /** Append-only file, fsynced on every write, in a temporary folder (removed by `dispose`). */
  persistent?: boolean;
}

export class DedicatedRedis {
  proc: ReturnType<typeof Bun.spawn> | undefined;
  /** The data folder of a persistent server. */
  readonly dir: string | undefined;

  constructor(
    readonly port: number = freePort(),
    readonly options: DedicatedRedisOptions = {},
  ) {
    if (options.persistent) this.dir = mkdtempSync(join(tmpdir(), "tw-redis-"));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on its port and resolves once it answers PING (a persistent one has loaded its data). */
  async start(): Promise<void> {
    if (this.proc) throw new Error(`redis-server on ${this.port} is already running`);
    const storage = this.dir ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", this.dir] : ["--appendonly", "no"];
    const proc = Bun.spawn(["redis-server", "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", ...storage], {
      stdout: "ignore",
      stderr: "ignore",
    });
    this.proc = proc;
    const ready = until(async () => (await accepts(this.port)) && (!this.dir || (await this.cli("PING")) === "PONG"), {
      message: `redis-server to answer on ${this.port}`,
    });
    try {
      await Promise.race([ready, exitedEarly(proc, `redis-server on ${this.port}`)]);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** SIGKILL: a crash, nothing flushed beyond what was already fsynced. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc) return;
    proc.kill(9);
    await proc.exited;
  }

  /** Kills the server and removes its data folder; for afterAll. */
  async dispose(): Promise<void> {
    await this.kill();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs one command through redis-cli against this server. */
  async cli(...args: string[]): Promise<string> {
    const p = Bun.spawn(["redis-cli", "-p", String(this.port), ...args], { stdout: "pipe", stderr: "ignore" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    return out.trim();
  }
}
