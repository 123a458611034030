/**
 * Chat posted continuously through a Redis fault (a failover, a resharding), and the check of
 * what every client got afterwards: the shared half of the issue #21 acceptance tests.
 *
 *   const load = postContinuously([a.url, b.url]);   // 4 clients, alternating instances
 *   await load.acceptedAtLeast(100);
 *   …the fault…
 *   await load.stop();
 *   await expectEveryAcceptedOnce(load.accepted, watchers, b.url);
 */
import { expect } from "bun:test";
import { compareSeq } from "../../src/core/seq.ts";
import { type SseEvent, type SseTestClient, sseClient } from "./sse-client.ts";
import { until } from "./until.ts";

const post = (url: string, content: string) =>
  fetch(`${url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ content }) });

export interface ChatLoad {
  /** Seqs of the posts answered 201, in the order the answers came. */
  readonly accepted: string[];
  /** When each of them was answered (`performance.now()`). */
  readonly acceptedAt: number[];
  /** Posts answered 503 (each checked to carry `Retry-After`). */
  readonly refused: number;
  /** Resolves once `n` more posts than `after` were accepted. */
  acceptedAtLeast(n: number, message: string, timeoutMs?: number): Promise<unknown>;
  /** The first 201 after `at`, in ms after it (NaN if none). */
  firstAcceptedAfter(at: number): number;
  stop(): Promise<void>;
}

/** `clients` clients posting chat back to back, alternating over `urls`; anything but 201 must be a 503 with `Retry-After`. */
export function postContinuously(urls: string[], clients = 4): ChatLoad {
  const accepted: string[] = [];
  const acceptedAt: number[] = [];
  let refused = 0;
  let running = true;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const res = await post(urls[i % urls.length]!, `w${w}-${i}`);
      if (res.status === 201) {
        accepted.push(((await res.json()) as { seq: string }).seq);
        acceptedAt.push(performance.now());
      } else {
        expect(res.status).toBe(503);
        expect(res.headers.get("retry-after")).toBeTruthy();
        await res.body?.cancel();
        refused++;
      }
    }
  };
  const workers = Array.from({ length: clients }, (_, w) => worker(w));
  return {
    accepted,
    acceptedAt,
    get refused() {
      return refused;
    },
    acceptedAtLeast: (n, message, timeoutMs = 30_000) => until(() => accepted.length >= n, { message, timeoutMs }),
    firstAcceptedAfter: (at) => Math.round((acceptedAt.find((t) => t > at) ?? Number.NaN) - at),
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/**
 * Every accepted message reached each watcher in log order, none twice (a refused post may
 * appear once), with no reset and no `recovered` event; and a client resuming on `resumeUrl`
 * with `Last-Event-ID` of the 50th gets exactly the rest. Closes the watchers.
 */
export async function expectEveryAcceptedOnce(accepted: readonly string[], watchers: SseTestClient[], resumeUrl: string): Promise<void> {
  const inLogOrder = [...accepted].sort(compareSeq);
  const acceptedSet = new Set(accepted);
  const check = (events: SseEvent[]) => {
    const seqs = events.filter((e) => typeof e.json?.seq === "string").map((e) => e.json.seq as string);
    expect(new Set(seqs).size).toBe(seqs.length);
    return seqs.filter((s) => acceptedSet.has(s));
  };
  for (const watcher of watchers) {
    await until(() => check(watcher.events).length === accepted.length, { message: "a watcher to get every accepted message", timeoutMs: 20_000 });
    expect(check(watcher.events)).toEqual(inLogOrder);
    expect(watcher.events.some((e) => e.event === "overflow" || e.event === "recovered")).toBe(false);
    watcher.close();
  }
  const from = watchers[0]!.events.find((e) => e.json?.seq === inLogOrder[49])!;
  const resumed = await sseClient(`${resumeUrl}/events`, { "Last-Event-ID": from.id ?? inLogOrder[49]! });
  await until(() => check(resumed.events).length >= inLogOrder.length - 50, { message: "the resumed client to get the rest", timeoutMs: 20_000 });
  expect(check(resumed.events)).toEqual(inLogOrder.slice(50));
  resumed.close();
}
