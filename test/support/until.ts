/**
 * The one way a test waits for something that has no event of its own to await:
 *
 *   const res = await until(async () => { const r = await fetch(url); return r.status === 503 && r; },
 *                           { message: "/health to report 503" });
 *
 * `until` calls `condition` at once and then every `intervalMs` (10 ms) until it returns a truthy
 * value (or a promise of one), and resolves with that value. A condition that throws counts as
 * "not yet" (a server still starting refuses connections). After `timeoutMs` (10 s, well under
 * the 30 s test timeout) it rejects with an error naming `message` and the last value or
 * exception seen, also when the last call is still pending then.
 *
 * Polling a condition is awaiting it; sleeping a fixed time and hoping is not, so tests never
 * sleep. Where there is a real event (a frame, a message, a process exit), await that instead:
 * `wsClient().next()` / `collect()`, `sseClient().next()`, `proc.exited`.
 */

/** What `until` resolves with: the condition's value once it is truthy. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

export interface UntilOptions {
  /** Give up after this many ms (default 10 000). */
  timeoutMs?: number;
  /** What is awaited, for the timeout error ("the stalled socket to be closed"); a function is called then, to report current state. */
  message?: string | (() => string);
  /** Time between two calls of the condition (default 10 ms). */
  intervalMs?: number;
}

export class UntilTimeoutError extends Error {
  override name = "UntilTimeoutError";
}

const describe = (v: unknown): string => {
  const text = v instanceof Error ? `${v.name}: ${v.message}` : Bun.inspect(v, { depth: 2 });
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
};

type Outcome<T> = { value: T } | { error: unknown } | "pending";

/** One call of `condition`, given `ms` to settle. */
async function attempt<T>(condition: () => T | PromiseLike<T>, ms: number): Promise<Outcome<Awaited<T>>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<"pending">((resolve) => (timer = setTimeout(() => resolve("pending"), ms)));
  try {
    return await Promise.race([
      Promise.resolve()
        .then(condition)
        .then(
          (value) => ({ value: value as Awaited<T> }),
          (error: unknown) => ({ error }),
        ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function until<T>(condition: () => T | PromiseLike<T>, opts: UntilOptions = {}): Promise<Truthy<Awaited<T>>> {
  const { timeoutMs = 10_000, message = "a condition", intervalMs = 10 } = opts;
  const deadline = performance.now() + timeoutMs;
  let last = "nothing (no call of the condition finished)";
  const fail = (extra = ""): never => {
    const what = typeof message === "function" ? message() : message;
    throw new UntilTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}; last ${last}${extra}`);
  };
  for (;;) {
    // A call that never settles must not outlive the deadline; the last call gets one interval.
    const outcome = await attempt(condition, Math.max(deadline - performance.now(), intervalMs));
    if (outcome === "pending") return fail("; the last call was still pending");
    if ("error" in outcome) last = `exception: ${describe(outcome.error)}`;
    else if (outcome.value) return outcome.value as Truthy<Awaited<T>>;
    else last = `value: ${describe(outcome.value)}`;
    const left = deadline - performance.now();
    if (left <= 0) return fail();
    // The polling interval between two checks of the condition, not a wait in itself.
    await Bun.sleep(Math.min(intervalMs, left));
  }
}
