/**
 * Append latency: `POST /messages` (chat) at a fixed rate, open loop (each request goes out on
 * its wall-clock slot whether or not the earlier ones were answered, so a slow append shows as
 * latency instead of lowering the rate), and the HTTP round trip of each. With Redis that is the
 * request, the append script (XADD) and, with `REDIS_MIN_REPLICAS` > 0, the group-committed
 * `WAIT` before the 201.
 * @module
 */

export interface AppendOptions {
  /** Server base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** Requests per second. */
  rate: number;
  /** Measured seconds, after the warm-up. */
  seconds: number;
  /** Seconds of requests sent first and not counted (JIT, connections, the Redis script cache). */
  warmupSeconds: number;
}

export interface AppendResult {
  requests: number;
  /** Round trips of the measured 201s, ms, ascending. */
  latencies: Float64Array;
  /** Measured requests answered with another status (e.g. 503 short of replicas), by status. */
  failures: Record<string, number>;
  /** The first failure's status and body, to say why. */
  firstFailure?: string;
}

/** Sends `(warmup + seconds) × rate` appends on wall-clock slots; resolves once all are answered. */
export async function runAppends(opts: AppendOptions): Promise<AppendResult> {
  const warmup = Math.round(opts.warmupSeconds * opts.rate);
  const total = warmup + Math.round(opts.seconds * opts.rate);
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let firstFailure: string | undefined;
  const fail = (status: string, detail: string) => {
    failures[status] = (failures[status] ?? 0) + 1;
    firstFailure ??= `${status}: ${detail.slice(0, 300)}`;
  };
  const answered: Promise<void>[] = [];
  const t0 = performance.now();
  for (let k = 0; k < total; k++) {
    const wait = t0 + (k * 1000) / opts.rate - performance.now();
    if (wait > 0.5) await new Promise((r) => setTimeout(r, wait)); // pacing the sender, not waiting for a condition
    const sentAt = performance.now();
    const counted = k >= warmup;
    answered.push(
      fetch(`${opts.url}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ content: `append ${k}`, user: "bench" }),
      }).then(
        async (res) => {
          const body = await res.text();
          const ms = performance.now() - sentAt;
          if (!counted) return;
          if (res.status === 201) latencies.push(ms);
          else fail(String(res.status), body);
        },
        (error) => void (counted && fail("network", String(error))),
      ),
    );
  }
  await Promise.all(answered);
  return { requests: total - warmup, latencies: Float64Array.from(latencies).sort(), failures, firstFailure };
}
