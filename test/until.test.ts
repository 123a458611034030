import { describe, expect, it } from "bun:test";
import { UntilTimeoutError, until } from "./support/until.ts";

describe("until", () => {
  it("resolves at once with a truthy value, without waiting an interval", async () => {
    let calls = 0;
    const started = performance.now();
    expect(await until(() => (calls++, { ok: 1 }), { intervalMs: 1000 })).toEqual({ ok: 1 });
    expect(calls).toBe(1);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("keeps calling, sync or async, until the condition holds, and resolves with its value", async () => {
    let n = 0;
    expect(await until(() => ++n >= 3 && `after ${n}`)).toBe("after 3");
    let m = 0;
    expect(await until(async () => (++m >= 3 ? m : 0))).toBe(3);
  });

  it("treats an exception as not yet", async () => {
    let n = 0;
    const value = await until(() => {
      if (++n < 3) throw new Error("not up yet");
      return n;
    });
    expect(value).toBe(3);
  });

  it("rejects after timeoutMs naming the message and the last value", async () => {
    const error = await until(() => 0, { timeoutMs: 50, message: "the answer" }).catch((e) => e);
    expect(error).toBeInstanceOf(UntilTimeoutError);
    expect(error.message).toBe("timed out after 50 ms waiting for the answer; last value: 0");
  });

  it("rejects naming the last exception, with a message computed at the timeout", async () => {
    let calls = 0;
    const error = await until(
      () => {
        calls++;
        throw new Error("connection refused");
      },
      { timeoutMs: 50, message: () => `a server (${calls > 1 ? "tried again" : "tried once"})` },
    ).catch((e) => e);
    expect(error.message).toBe("timed out after 50 ms waiting for a server (tried again); last exception: Error: connection refused");
  });

  it("does not outlive its timeout when a call never settles", async () => {
    const started = performance.now();
    const error = await until(() => new Promise<boolean>(() => {}), { timeoutMs: 50, message: "a hung call" }).catch((e) => e);
    expect(error.message).toMatch(/^timed out after 50 ms waiting for a hung call; .*the last call was still pending$/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
