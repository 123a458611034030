/**
 * Logs (pino). Request logs at debug, lifecycle at info, faults at warn/error with the context
 * that explains them.
 *
 * Structured JSON, one object a line, is the format of `APP_ENV` test and prod (what collectors
 * and the tests that spawn a server parse). In dev ({@link devDestination}) the FIRST line says
 * where to point a browser, the storage mode and whether auth is on: records logged before the
 * server listens (the auth-off warning, timers loaded, …) are held and printed right after it,
 * or at once if a record at error or above comes first (a failed start) or the start takes longer
 * than {@link HOLD_MS}. On a terminal dev lines are human-readable ({@link prettyLine}); piped
 * (`npm start | tee`, a supervisor, a test) they stay JSON, so that tools can still parse them.
 * @module
 */
import pino, { type Logger } from "pino";

export type { Logger };

/** The message of the record `main.ts` logs once it listens (tests parse it from JSON logs). */
export const LISTENING = "tickwire listening";
/** How long dev logs hold records while waiting for the server to listen. */
const HOLD_MS = 3000;
/** Records held at most meanwhile; later ones flush the lot. */
const HOLD_MAX = 200;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "tickwire", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that writes nothing, for tests and benchmarks. */
export const silentLogger: Logger = pino({ level: "silent" });

const LEVEL_RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const HIDDEN = new Set(["level", "time", "msg", "service", "pid"]);
const MODES: Record<string, string> = {
  embedded: "embedded: SQLite file + in-process log, no MySQL or Redis needed",
  "mysql+redis": "MySQL + Redis",
  mysql: "MySQL, logs in memory (no Redis)",
  "sqlite+redis": "SQLite + Redis",
};

/** One JSON record (as pino writes it) as a human-readable line. */
export function prettyLine(json: string, color = false): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const level = String(rec.level ?? "info");
  const time = typeof rec.time === "string" ? rec.time.slice(11, 23) : "";
  const label = level.toUpperCase().padEnd(5);
  const shown = color ? `${(LEVEL_RANK[level] ?? 30) >= 50 ? "\x1b[31m" : (LEVEL_RANK[level] ?? 30) >= 40 ? "\x1b[33m" : "\x1b[32m"}${label}\x1b[0m` : label;
  if (rec.msg === LISTENING && typeof rec.url === "string") {
    const mode = MODES[String(rec.mode)] ?? String(rec.mode);
    const auth = rec.auth === "on" ? "auth on" : "auth off (set JWT_SECRET to require tokens)";
    return `${time} ${shown} tickwire listening on ${rec.url}  (${mode}; ${auth}; APP_ENV=${rec.env})`;
  }
  const fields = Object.entries(rec)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  return `${time} ${shown} ${String(rec.msg ?? "")}${fields.length ? `  ${fields.join(" ")}` : ""}`;
}

/**
 * The dev destination: the listening line first (see the module comment), each record written
 * synchronously to `fd` (pino's own sync stream: nothing is lost at `process.exit`, a full or
 * closed pipe is handled as for JSON logs), as {@link prettyLine} when `pretty`
 * (default: stdout is a terminal; colours unless `NO_COLOR`), else as the JSON pino wrote.
 */
export function devDestination(fd = 1, pretty = process.stdout.isTTY === true, color = pretty && !process.env.NO_COLOR): pino.DestinationStream {
  const format = pretty ? (json: string) => prettyLine(json, color) : (json: string) => json;
  let held: string[] | undefined = [];
  const sink = pino.destination({ dest: fd, sync: true });
  const out = (line: string) => sink.write(`${line}\n`);
  const release = () => {
    const lines = held ?? [];
    held = undefined;
    clearTimeout(timer);
    for (const line of lines) out(line);
  };
  const timer = setTimeout(release, HOLD_MS);
  timer.unref?.();
  return {
    write(chunk: string) {
      for (const json of chunk.split("\n")) {
        if (!json) continue;
        const line = format(json);
        if (!held) {
          out(line);
          continue;
        }
        if (json.includes(`"msg":"${LISTENING}"`)) {
          out(line);
          release();
        } else if (/"level":"(error|fatal)"/.test(json) || held.length >= HOLD_MAX) {
          held.push(line);
          release();
        } else held.push(line);
      }
    },
  };
}
