import { afterAll, describe, expect, it } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, devDestination, prettyLine } from "./log.ts";

const dir = mkdtempSync(join(tmpdir(), "tw-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A dev logger writing to a file; `read()` returns its lines so far. */
function devLogger(name: string, pretty: boolean) {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  const log = createLogger("info", devDestination(fd, pretty, false));
  return {
    log,
    read: () => readFileSync(path, "utf8").split("\n").filter(Boolean),
    close: () => closeSync(fd),
  };
}

const listening = { port: 8080, host: "0.0.0.0", url: "http://localhost:8080/", mode: "embedded", auth: "off", env: "dev" };

describe("dev logs", () => {
  it("print the listening line first, naming the URL, the mode and auth, then what was logged before it", () => {
    const { log, read, close } = devLogger("pretty", true);
    log.warn("JWT_SECRET is unset: authentication is OFF (acceptable in dev only)");
    log.info({ count: 2, database: "sqlite:./data/tickwire.db" }, "timers loaded");
    expect(read()).toEqual([]);
    log.info(listening, "tickwire listening");
    log.info({ signal: "SIGINT" }, "signal received");
    const lines = read();
    close();
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}tickwire listening on http:\/\/localhost:8080\/ {2}\(embedded: SQLite file \+ in-process log, no MySQL or Redis needed; auth off \(set JWT_SECRET to require tokens\); APP_ENV=dev\)$/,
    );
    expect(lines.slice(1).map((l) => l.slice(13))).toEqual([
      "WARN  JWT_SECRET is unset: authentication is OFF (acceptable in dev only)",
      "INFO  timers loaded  count=2 database=sqlite:./data/tickwire.db",
      "INFO  signal received  signal=SIGINT",
    ]);
  });

  it("stay JSON when not on a terminal, the listening line still first", () => {
    const { log, read, close } = devLogger("json", false);
    log.warn("before");
    log.info(listening, "tickwire listening");
    const lines = read().map((l) => JSON.parse(l));
    close();
    expect(lines.map((l) => l.msg)).toEqual(["tickwire listening", "before"]);
    expect(lines[0]).toMatchObject({ level: "info", url: "http://localhost:8080/", mode: "embedded", auth: "off" });
  });

  it("print everything held at once when a start fails", () => {
    const { log, read, close } = devLogger("failed", true);
    log.info("connecting");
    log.fatal({ code: "EADDRINUSE" }, "startup failed");
    const lines = read();
    close();
    expect(lines.map((l) => l.slice(13))).toEqual(["INFO  connecting", "FATAL startup failed  code=EADDRINUSE"]);
  });

  it("render values with spaces as JSON and hide the fields every line has", () => {
    const line = prettyLine(JSON.stringify({ level: "warn", time: "2026-01-01T10:00:00.000Z", service: "tickwire", pid: 1, msg: "m", err: "a b", n: 3 }));
    expect(line).toBe('10:00:00.000 WARN  m  err="a b" n=3');
    expect(prettyLine("not json\n")).toBe("not json");
  });
});
