import { describe, expect, it } from "bun:test";
import { type LogEntry, LogUnavailableError, StoredEntry } from "../../core/topic-log.ts";
import { RelayIngest } from "./ingest.ts";

/** An append whose results the test settles by hand. */
function manualLog() {
  const pending: { message: string; resolve(e: LogEntry): void; reject(e: unknown): void }[] = [];
  let n = 0;
  const append = (message: string) => new Promise<LogEntry>((resolve, reject) => pending.push({ message, resolve, reject }));
  const settleAll = () => {
    for (const p of pending.splice(0)) p.resolve(new StoredEntry("relay", `1-${n++}`, 1, JSON.stringify({ message: p.message })));
  };
  return { pending, append, settleAll };
}

describe("RelayIngest", () => {
  it("refuses with overloaded once the in-flight limit is reached, before calling the log", async () => {
    const log = manualLog();
    const ingest = new RelayIngest({ append: log.append, maxInFlight: 2 });
    const a = ingest.submit("a");
    const b = ingest.submit("b");
    expect(ingest.inFlight).toBe(2);
    expect(await ingest.submit("c")).toMatchObject({ ok: false, code: "overloaded" });
    expect(log.pending.map((p) => p.message)).toEqual(["a", "b"]);
    log.settleAll();
    expect(await a).toEqual({ ok: true, seq: "1-0" });
    expect(await b).toEqual({ ok: true, seq: "1-1" });
    expect(ingest.inFlight).toBe(0);
    const d = ingest.submit("d");
    log.settleAll();
    expect(await d).toMatchObject({ ok: true });
  });

  it("caps the bytes in flight too, but always admits one message", async () => {
    const log = manualLog();
    const ingest = new RelayIngest({ append: log.append, maxInFlightBytes: 10 });
    const big = ingest.submit("x".repeat(50));
    expect(await ingest.submit("y")).toMatchObject({ ok: false, code: "overloaded" });
    log.settleAll();
    expect(await big).toMatchObject({ ok: true });
  });

  it("maps a LogUnavailableError to its reason and any other failure to internal, freeing the slot", async () => {
    const failures: unknown[] = [new LogUnavailableError("redis down", "unavailable"), new LogUnavailableError("full", "overloaded"), new Error("boom")];
    const reported: unknown[] = [];
    const ingest = new RelayIngest({
      append: async () => {
        throw failures.shift();
      },
      onError: (e) => reported.push(e),
    });
    expect(await ingest.submit("a")).toMatchObject({ ok: false, code: "unavailable" });
    expect(await ingest.submit("b")).toMatchObject({ ok: false, code: "overloaded" });
    expect(await ingest.submit("c")).toMatchObject({ ok: false, code: "internal" });
    expect(reported).toHaveLength(1);
    expect(ingest.inFlight).toBe(0);
  });

  it("turns a synchronous throw from the log into an outcome instead of an exception", async () => {
    const ingest = new RelayIngest({
      append: () => {
        throw new LogUnavailableError("stopping", "unavailable");
      },
    });
    expect(await ingest.submit("a")).toMatchObject({ ok: false, code: "unavailable" });
    expect(ingest.inFlight).toBe(0);
  });
});
