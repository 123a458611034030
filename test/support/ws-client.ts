/**
 * A WebSocket test client that records every frame and lets a test await a condition on them,
 * never sleeping: `await client.next((f) => f.topic === "cron")`.
 */

export interface WsTestClient {
  ws: WebSocket;
  /** Every text frame received so far, parsed as JSON when possible. */
  frames: unknown[];
  /** Raw text frames, in order. */
  raw: string[];
  /** Resolves when the socket has opened. */
  opened: Promise<void>;
  /** Resolves with the close event's code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first frame (from index `from`, default: not yet consumed) matching `match`. */
  next<T = any>(match?: (frame: any) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves once `count` frames matching `match` have been received in total. */
  collect<T = any>(count: number, match?: (frame: any) => boolean, timeoutMs?: number): Promise<T[]>;
  send(value: unknown): void;
  close(): void;
}

export function wsClient(url: string, protocols?: string[]): WsTestClient {
  const ws = new WebSocket(url, protocols);
  const frames: unknown[] = [];
  const raw: string[] = [];
  let cursor = 0;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  ws.onmessage = (event) => {
    const text = typeof event.data === "string" ? event.data : String(event.data);
    raw.push(text);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {}
    frames.push(value);
    wake();
  };
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) => reject(new Error(`websocket error on ${url}: ${String((e as ErrorEvent).message ?? e)}`));
  });
  opened.catch(() => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => {
      resolve({ code: e.code, reason: e.reason });
      wake();
    };
  });

  // Re-checked on every frame and on close: this awaits the frames themselves, it does not poll
  // (support/until.ts is for conditions without an event of their own).
  const waitFor = <T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const result = check();
        if (result !== undefined) {
          waiters.delete(attempt);
          clearTimeout(timer);
          resolve(result);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        waiters.delete(attempt);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${raw.length} frames, last: ${raw.slice(-3).join(" | ")}`));
      }, timeoutMs);
      if (!attempt()) waiters.add(attempt);
    });

  return {
    ws,
    frames,
    raw,
    opened,
    closed,
    next(match = () => true, timeoutMs = 10_000) {
      return waitFor(
        () => {
          for (let i = cursor; i < frames.length; i++) {
            if (match(frames[i])) {
              cursor = i + 1;
              return frames[i] as any;
            }
          }
          return undefined;
        },
        "a matching frame",
        timeoutMs,
      );
    },
    collect(count, match = () => true, timeoutMs = 10_000) {
      return waitFor(
        () => {
          const hits = frames.filter(match);
          return hits.length >= count ? (hits.slice(0, count) as any[]) : undefined;
        },
        `${count} matching frames`,
        timeoutMs,
      );
    },
    send(value) {
      ws.send(typeof value === "string" ? value : JSON.stringify(value));
    },
    close() {
      ws.close();
    },
  };
}
