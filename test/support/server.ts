/**
 * Starting real tickwire servers for tests: in-process on port 0 (`startServer`) or as a child
 * process (`spawnServer`, for signals and `kill -9`). `MODES` lists the storage modes every
 * contract test runs against: embedded (SQLite + in-process) and MySQL + Redis (the machine's
 * services; a test fails, never skips, when they cannot be reached).
 */
import { loadConfig } from "../../src/config/index.ts";
import type { Clock } from "../../src/core/clock.ts";
import { silentLogger } from "../../src/log.ts";
import { startTickwire, type Tickwire } from "../../src/main.ts";

export interface Mode {
  name: "embedded" | "mysql+redis";
  /** Environment for a server of this mode; `prefix` isolates Redis keys per test file. */
  env(prefix: string): Record<string, string>;
}

export const MYSQL_URL = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export const MODES: Mode[] = [
  { name: "embedded", env: () => ({ DATABASE_URL: "sqlite::memory:" }) },
  { name: "mysql+redis", env: (prefix) => ({ DATABASE_URL: MYSQL_URL, REDIS_URL, STREAM_PREFIX: prefix }) },
];

/** A prefix unique to this run, for Redis keys and the like. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Starts an in-process server on a free port with `env` over test defaults (and `clock`, e.g. one set ahead). */
export async function startServer(env: Record<string, string> = {}, clock?: Clock): Promise<Tickwire> {
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: "sqlite::memory:", ...env });
  return startTickwire(config, { logger: silentLogger, ...(clock ? { clock } : {}) });
}

export function wsUrl(app: { url: string }, path: string): string {
  return app.url.replace(/^http/, "ws") + path;
}

export interface ChildServer {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
  port: number;
  /** Every stdout line so far (JSON logs). */
  lines: string[];
  exited: Promise<number>;
}

/** Runs `bun src/main.ts` as a child and resolves once it logs that it listens. */
export async function spawnServer(env: Record<string, string> = {}, timeoutMs = 15_000): Promise<ChildServer> {
  const proc = Bun.spawn([process.execPath, "src/main.ts"], {
    cwd: `${import.meta.dir}/../..`,
    // LOG_LEVEL stays at info or lower: the "tickwire listening" line tells us the port.
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      APP_ENV: "test",
      DATABASE_URL: "sqlite::memory:",
      ...env,
      LOG_LEVEL: env.LOG_LEVEL === "debug" ? "debug" : "info",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms: ${lines.join("\n")}`)), timeoutMs);
    (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf("\n")) !== -1) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          lines.push(line);
          try {
            const rec = JSON.parse(line);
            if (rec.msg === "tickwire listening") {
              clearTimeout(timer);
              resolve(rec.port);
            }
          } catch {}
        }
      }
      clearTimeout(timer);
      reject(new Error(`server exited before listening: ${lines.join("\n")}`));
    })();
  });
  return { proc, url: `http://127.0.0.1:${port}`, port, lines, exited: proc.exited };
}
