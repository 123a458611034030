/**
 * The pieces `SentinelSet` and `RedisCluster` (redis-topology.ts) are built from: free ports, a
 * polling helper, `redis-cli` as a function, and `RedisNode`, one redis-server (or sentinel)
 * process with a temporary folder of its own for its log, its config and its `nodes.conf`.
 *
 * bench/ cannot import test/support, so `poll` here is a small twin of test/support/until.ts:
 * it calls a condition until it is truthy, a throw counting as "not yet".
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Ports this process already handed out: two `freePort()` calls in a row never return the same one. */
const handedOut = new Set<number>();

/** A free TCP port, found by listening on port 0, and not one handed out before by this process. */
export function freePort(): number {
  for (;;) {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Whether something accepts TCP connections on `port` right now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = connect(port, "127.0.0.1");
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("error", () => resolve(false));
  });
}

export interface PollOptions {
  /** Give up after this many ms (default 20 000: a failover takes a few seconds). */
  timeoutMs?: number;
  /** Time between two calls (default 50 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout error. */
  message?: string;
}

/** Resolves with the first truthy value of `condition`; a throw counts as "not yet". */
export async function poll<T>(condition: () => T | Promise<T>, opts: PollOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 20_000, intervalMs = 50, message = "a condition" } = opts;
  const deadline = performance.now() + timeoutMs;
  let last = "no call finished";
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      last = `value ${Bun.inspect(value)}`;
    } catch (error) {
      last = `exception ${error instanceof Error ? error.message : String(error)}`;
    }
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}; last ${last}`);
    // The interval between two checks of the condition, not a wait in itself.
    await Bun.sleep(intervalMs);
  }
}

/**
 * Runs `redis-cli -p <port> ...args` and returns its output, trimmed (raw mode: one line per
 * array element, nested arrays flattened). Rejects when redis-cli cannot connect; an error
 * reply (`ERR ...`) is output like any other, so callers that need `OK` use `expectOk`.
 */
export async function redisCli(port: number, args: string[], flags: string[] = []): Promise<string> {
  const p = Bun.spawn(["redis-cli", "-p", String(port), ...flags, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`redis-cli -p ${port} ${args.join(" ")}: exit ${code}: ${err.trim() || out.trim()}`);
  return out.trim();
}

/** Runs a command that must answer `OK` (or one of `alsoFine`), else rejects with its reply. */
export async function expectOk(port: number, args: string[], alsoFine: string[] = []): Promise<void> {
  const reply = await redisCli(port, args);
  if (reply !== "OK" && !alsoFine.includes(reply)) throw new Error(`${args.join(" ")} on ${port}: ${reply}`);
}

/** `field:value` lines of an INFO reply, as a map. */
export function parseInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * Resolves once every replica of the master on `port` is online (its initial sync done) and has
 * acknowledged (REPLCONF ACK, about once a second) all the master had written when this was called. Replication is asynchronous: kill a
 * master right after a write and the promoted replica may not have it. (WAIT would not do here:
 * it counts acknowledgements of the calling connection's own writes, and redis-cli opens a new
 * connection per call, so it returns at once.)
 */
export async function awaitReplicated(port: number, timeoutMs = 20_000): Promise<void> {
  const target = Number(parseInfo(await redisCli(port, ["INFO", "replication"])).get("master_repl_offset"));
  await poll(
    async () => {
      const info = parseInfo(await redisCli(port, ["INFO", "replication"]));
      const replicas = Number(info.get("connected_slaves"));
      const lines = Array.from({ length: replicas }, (_, i) => info.get(`slave${i}`) ?? "");
      // `state=online`: past the initial sync (before it, offset 0 looks "caught up" on a new master).
      const acked = lines.map((line) => (line.includes("state=online") ? Number(/offset=(\d+)/.exec(line)?.[1]) : -1));
      return replicas > 0 && acked.every((offset) => offset >= target);
    },
    { timeoutMs, message: `the replicas of ${port} to acknowledge offset ${target}` },
  );
}

/** One redis-server process on its own port, with a temporary folder removed by `dispose`. */
export class RedisNode {
  proc: ReturnType<typeof Bun.spawn> | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), "tw-topology-"));

  constructor(readonly port: number = freePort()) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.proc !== undefined;
  }

  /**
   * Starts `redis-server [configFile] --port ... ...args` (no persistence, bound to 127.0.0.1,
   * log in its folder) and resolves once it answers PING; rejects with the log's tail if the
   * process exits first.
   */
  async start(args: string[] = [], configFile?: string): Promise<void> {
    if (this.proc) throw new Error(`redis-server on ${this.port} is already running`);
    const log = join(this.dir, "redis.log");
    const argv = ["redis-server", ...(configFile ? [configFile] : [])];
    argv.push("--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--logfile", log);
    if (!args.includes("--sentinel")) argv.push("--save", "", "--appendonly", "no");
    const proc = Bun.spawn([...argv, ...args], { stdout: "ignore", stderr: "pipe" });
    this.proc = proc;
    const exited = proc.exited.then(async (code) => {
      const stderr = await new Response(proc.stderr).text();
      let tail = "";
      try {
        tail = readFileSync(log, "utf8").split("\n").slice(-5).join("\n");
      } catch {}
      throw new Error(`redis-server on ${this.port} exited with code ${code} before it was ready: ${stderr.trim()} ${tail}`);
    });
    exited.catch(() => {}); // after a ready start, a later exit (kill) is not an error
    const ready = poll(async () => (await accepts(this.port)) && (await redisCli(this.port, ["PING"])) === "PONG", {
      message: `redis-server to answer PING on ${this.port}`,
    });
    try {
      await Promise.race([ready, exited]);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** SIGKILL, like a crash; resolves once the process is gone. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc) return;
    proc.kill(9);
    await proc.exited;
  }

  /** Kills the process and removes its folder; idempotent. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** One command through redis-cli against this node. */
  cli(...args: string[]): Promise<string> {
    return redisCli(this.port, args);
  }
}
