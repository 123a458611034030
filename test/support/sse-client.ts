/**
 * An SSE test client over `fetch` that parses real event-stream bytes (id, event, data, retry,
 * comments) and lets a test await events.
 */

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  /** `data` parsed as JSON when possible. */
  json?: any;
}

export interface SseTestClient {
  response: Response;
  events: SseEvent[];
  comments: string[];
  retry?: number;
  /** Resolves when the stream ends. */
  ended: Promise<void>;
  next(match?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  collect(count: number, match?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

export async function sseClient(url: string, headers: Record<string, string> = {}): Promise<SseTestClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { Accept: "text/event-stream", ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  let cursor = 0;
  const client: SseTestClient = {
    response,
    events,
    comments,
    ended: Promise.resolve(),
    next(match = () => true, timeoutMs = 10_000) {
      return wait(() => {
        for (let i = cursor; i < events.length; i++) {
          if (match(events[i]!)) {
            cursor = i + 1;
            return events[i];
          }
        }
        return undefined;
      }, timeoutMs);
    },
    collect(count, match = () => true, timeoutMs = 10_000) {
      return wait(() => {
        const hits = events.filter(match);
        return hits.length >= count ? hits.slice(0, count) : undefined;
      }, timeoutMs);
    },
    close() {
      abort.abort();
    },
  };
  let done = false;
  // Re-checked on every chunk and when the stream ends: this awaits the events themselves, it does
  // not poll (support/until.ts is for conditions without an event of their own).
  const wait = <T>(check: () => T | undefined, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const r = check();
        if (r !== undefined) {
          waiters.delete(attempt);
          clearTimeout(timer);
          resolve(r);
          return true;
        }
        if (done) {
          waiters.delete(attempt);
          clearTimeout(timer);
          reject(new Error(`stream ended before the awaited event; got ${events.length} events`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        waiters.delete(attempt);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms; got ${events.length} events: ${events
              .slice(-3)
              .map((e) => e.data)
              .join(" | ")}`,
          ),
        );
      }, timeoutMs);
      if (!attempt()) waiters.add(attempt);
    });

  client.ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let idx: number;
        while ((idx = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          const ev: SseEvent = { data: "" };
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim());
            else if (line.startsWith("id:")) ev.id = line.slice(3).trim();
            else if (line.startsWith("event:")) ev.event = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
            else if (line.startsWith("retry:")) client.retry = Number(line.slice(6));
          }
          if (data.length) {
            ev.data = data.join("\n");
            try {
              ev.json = JSON.parse(ev.data);
            } catch {}
            events.push(ev);
          }
        }
        wake();
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      wake();
    }
  })();
  return client;
}
