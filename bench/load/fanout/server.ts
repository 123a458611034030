/**
 * Launches the servers the load benchmarks compare, each in its own process so that subscribers,
 * publisher and measurement never share a thread with the server under test:
 * - `bare`: {@link ./bare-relay.ts}, the baseline;
 * - `embedded`: tickwire with the in-process topic log (the default deployment; `opts.env`
 *   changes its config, e.g. `WRITE_DELAY_MS`);
 * - `redis`: tickwire with its topic logs in Redis Streams (`REDIS_URL`, a unique
 *   `STREAM_PREFIX`; the streams are deleted on stop, so an interrupted run leaves keys
 *   `bench-fanout-*` in Redis).
 *
 *   bun bench/load/fanout/server.ts --variant embedded     # run one by hand; Ctrl-C stops it
 * @module
 */
import { parseArgs } from "node:util";
import { createClient } from "redis";
import { BENCH_LIMITS, REDIS_URL, trackChild } from "../launcher.ts";

export type ServerKind = "bare" | "embedded" | "redis";

export interface LaunchOptions {
  /** Extra environment for tickwire (e.g. `TICK_MS`). */
  env?: Record<string, string>;
  /** Print one line per tick (tickwire: its ticker; bare: the same Ticker class); lines arrive through `onLine`. */
  tickLog?: boolean;
  /** Write a `.cpuprofile` of the server into this directory (`bun --cpu-prof`). */
  cpuProfDir?: string;
  /** Names the `.cpuprofile` (default: the kind), e.g. a benchmark variant that runs the same kind. */
  name?: string;
  onLine?: (line: string) => void;
}

export interface LaunchedServer {
  kind: ServerKind;
  pid: number;
  port: number;
  url: string;
  /** Resident set size of the server process in bytes, from /proc. */
  rss(): Promise<number>;
  /** CPU time (user + system) the server process has used so far, ms, from /proc. */
  cpuMs(): Promise<number>;
  /** Resolves once the server has been (nearly) idle for 250 ms, or after `maxMs`. */
  quiesce(maxMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const here = import.meta.dir;

export async function launch(kind: ServerKind, opts: LaunchOptions = {}): Promise<LaunchedServer> {
  const prefix = `bench-fanout-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  const env: Record<string, string> = { ...(process.env as Record<string, string>), LOG_LEVEL: "warn", ...BENCH_LIMITS, ...opts.env };
  if (kind === "redis") Object.assign(env, { REDIS_URL, STREAM_PREFIX: prefix });
  const script = kind === "bare" ? `${here}/bare-relay.ts` : `${here}/tickwire-server.ts`;
  const args = [process.execPath];
  if (opts.cpuProfDir) args.push("--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=${opts.name ?? kind}-${prefix}.cpuprofile`);
  args.push(script);
  if (opts.tickLog) args.push("--tick-log");
  const proc = Bun.spawn(args, { cwd: `${here}/../../..`, env, stdout: "pipe", stderr: "inherit" });
  trackChild(proc);
  const port = await new Promise<number>((resolve, reject) => {
    (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf("\n")) !== -1) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.startsWith('{"listening":')) resolve(JSON.parse(line).listening);
          else opts.onLine?.(line);
        }
      }
      reject(new Error(`${kind} server exited before listening`));
    })().catch(reject);
  });
  const cpuMs = async () => {
    // Fields 14 and 15 of /proc/<pid>/stat: utime and stime in clock ticks (100 per second).
    const stat = await Bun.file(`/proc/${proc.pid}/stat`).text();
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  return {
    kind,
    pid: proc.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    async rss() {
      const status = await Bun.file(`/proc/${proc.pid}/status`).text();
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
    },
    cpuMs,
    async quiesce(maxMs = 5000) {
      // A previous run may leave the server flushing a backlog; the next one must not pay for it.
      const until = performance.now() + maxMs;
      while (performance.now() < until) {
        const before = await cpuMs();
        await Bun.sleep(250);
        if ((await cpuMs()) - before <= 25) return;
      }
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      if (kind === "redis") await deleteStreams(prefix);
    },
  };
}

/** Removes the benchmark's streams so the shared Redis does not keep them. */
async function deleteStreams(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 100 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    client.destroy();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { variant: { type: "string", default: "embedded" }, "cpu-prof-dir": { type: "string" } } });
  const server = await launch(values.variant as ServerKind, { cpuProfDir: values["cpu-prof-dir"], onLine: (l) => console.log(l) });
  console.log(`${server.kind} server on ${server.url} (pid ${server.pid}); Ctrl-C to stop`);
  const stop = () => server.stop().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
