/**
 * How the load benchmarks start tickwire (bench/ takes nothing from test/):
 * - {@link launchTickwire}: `bun src/main.ts` as a child process on a free port, resolved once
 *   `GET /health` answers 200; `stop()` sends SIGTERM and waits for the exit. Used by
 *   chat-latency.ts and stalled-client.ts.
 * - {@link startInProcess}: `startTickwire()` in this process, for a benchmark that drives the
 *   hub itself (fanout.bench.ts).
 * - {@link trackChild}: every child server (these, and fanout/server.ts's variants) is killed
 *   when the benchmark exits, Ctrl-C included.
 * The fanout family's comparison servers (bare relay, tickwire with a tick log) are launched by
 * fanout/server.ts, on top of {@link trackChild}.
 * @module
 */
import { loadConfig } from "../../src/config/index.ts";
import { silentLogger } from "../../src/log.ts";
import { startTickwire, type Tickwire } from "../../src/main.ts";

/** The Redis the `redis` modes use (the machine's; keys under a unique `STREAM_PREFIX`). */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Per-connection limits raised for benchmarks: they measure the server's capacity, and one
 * benchmark client publishes far past what one production client may (`docs/operations.md`).
 */
export const BENCH_LIMITS: Record<string, string> = {
  WS_OPS_PER_SECOND: "100000",
  WS_PUBLISHES_PER_SECOND: "1000000",
  MAX_TOPICS_PER_CONNECTION: "100000",
};

/** The repository root: child servers run `src/main.ts` from there. */
const ROOT = `${import.meta.dir}/../..`;

/** A prefix unique to this run, for Redis keys. */
export function uniquePrefix(name: string): string {
  return `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A TCP port that is free right now (the kernel picks it; it is released at once). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/**
 * Every child server still running: killed when this process exits, so that a benchmark stopped
 * with Ctrl-C or SIGTERM (which skips its `finally` blocks) leaves no server behind. A process
 * that handles those signals itself keeps doing so: the exit below only runs when no other
 * handler is registered at the time the signal arrives. What the exit hook cannot do is wait:
 * a `redis` variant's streams are deleted by its `stop()` only.
 */
const running = new Set<{ kill(signal?: number | NodeJS.Signals): void }>();
let exitHooked = false;
export function trackChild(proc: { kill(signal?: number | NodeJS.Signals): void; exited: Promise<unknown> }): void {
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    for (const p of running) p.kill("SIGTERM");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) === 1) process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}

export interface TickwireProcess {
  proc: ReturnType<typeof Bun.spawn>;
  pid: number;
  port: number;
  url: string;
  /** The last 200 lines the server wrote (stdout and stderr), for error messages. */
  lines: string[];
  exited: Promise<number>;
  /** SIGTERM, then the exit code once it has exited. */
  stop(): Promise<number>;
}

export interface LaunchOptions {
  /** How long the server may take to answer `/health` with 200 (default 20 s). */
  timeoutMs?: number;
  /** Every line the server writes to stdout (its JSON log). */
  onLine?: (line: string) => void;
}

/** Reads `stream` to its end, line by line (a child whose pipe is not read would block on it). */
async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) !== -1) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  if (buf) onLine(buf);
}

/**
 * Runs `bun src/main.ts` with `env` over the benchmark defaults (embedded SQLite in memory,
 * `LOG_LEVEL=warn`) on a free port, and resolves once its `/health` answers 200. If the port was
 * taken meanwhile (another process got it between probe and listen), tries another one.
 */
export async function launchTickwire(env: Record<string, string> = {}, opts: LaunchOptions = {}): Promise<TickwireProcess> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  for (let attempt = 1; ; attempt++) {
    const port = freePort();
    const lines: string[] = [];
    const keep = (line: string) => {
      lines.push(line);
      if (lines.length > 200) lines.shift();
    };
    const proc = Bun.spawn([process.execPath, "src/main.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        APP_ENV: "test",
        DATABASE_URL: "sqlite::memory:",
        LOG_LEVEL: "warn",
        ...BENCH_LIMITS,
        ...env,
        PORT: String(port),
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    trackChild(proc);
    void readLines(proc.stdout as ReadableStream<Uint8Array>, (line) => (keep(line), opts.onLine?.(line)));
    void readLines(proc.stderr as ReadableStream<Uint8Array>, (line) => (keep(line), console.error(`[tickwire ${port}] ${line}`)));
    const url = `http://127.0.0.1:${port}`;
    const server: TickwireProcess = {
      proc,
      pid: proc.pid,
      port,
      url,
      lines,
      exited: proc.exited,
      async stop() {
        proc.kill("SIGTERM");
        return proc.exited;
      },
    };
    let exitCode: number | undefined;
    void proc.exited.then((code) => (exitCode = code));
    const deadline = performance.now() + timeoutMs;
    let last = "no answer";
    while (exitCode === undefined && performance.now() < deadline) {
      try {
        const res = await fetch(`${url}/health`);
        if (res.status === 200) return server;
        last = `${res.status} ${await res.text()}`;
      } catch (error) {
        last = String(error);
      }
      // Polling the server's readiness: the only event a plain `src/main.ts` offers is its log.
      await Bun.sleep(50);
    }
    if (exitCode === undefined) {
      await server.stop();
      throw new Error(`tickwire did not answer /health with 200 in ${timeoutMs} ms (last: ${last}):\n${lines.join("\n")}`);
    }
    await proc.exited;
    if (attempt < 3 && lines.some((l) => l.includes("EADDRINUSE"))) continue;
    throw new Error(`tickwire exited with ${exitCode} before it was healthy:\n${lines.join("\n")}`);
  }
}

/**
 * Starts tickwire in this process on a free port (`env` over the same defaults as
 * {@link launchTickwire}, logging silenced): for a benchmark that calls `app.ctx.hub` itself.
 */
export function startInProcess(env: Record<string, string> = {}): Promise<Tickwire> {
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", APP_ENV: "test", DATABASE_URL: "sqlite::memory:", LOG_LEVEL: "silent", ...BENCH_LIMITS, ...env });
  return startTickwire(config, { logger: silentLogger });
}
