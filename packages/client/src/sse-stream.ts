/**
 * Opening one Server-Sent Events stream, two ways behind one interface: the standard
 * `EventSource` (browsers), or `fetch` with a small SSE parser (Bun and Node have no
 * EventSource). Either way the stream never reconnects by itself: the SSE link does, from its
 * own last seq, so that every resume goes through the same dedupe and epoch checks.
 * @module
 */

export interface StreamHandlers {
  open(): void;
  /** One event: its type (`message` by default), its data, and its `id:` when it had one. */
  event(type: string, data: string, id: string | undefined): void;
  /** The stream failed or ended; `status` when the server answered something other than 200. */
  error(status?: number): void;
}

/** Opens a stream at `url`; returns how to close it. */
export type SseOpener = (url: string, handlers: StreamHandlers) => { close(): void };

/** The server's named events, beside the default `message`. */
const NAMED = ["position", "recovered", "overflow", "token_expired", "error"];

interface EventSourceLike {
  readonly readyState: number;
  onopen: ((e: unknown) => void) | null;
  onmessage: ((e: { data: string; lastEventId?: string }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  addEventListener(type: string, listener: (e: { data?: string; lastEventId?: string }) => void): void;
  close(): void;
}
type EventSourceConstructor = new (url: string) => EventSourceLike;

export function eventSourceOpener(EventSource: EventSourceConstructor): SseOpener {
  return (url, h) => {
    const es = new EventSource(url);
    let done = false;
    const fail = () => {
      if (done) return;
      done = true;
      es.close();
      h.error();
    };
    es.onopen = () => h.open();
    es.onmessage = (e) => h.event("message", e.data, e.lastEventId || undefined);
    for (const type of NAMED) {
      es.addEventListener(type, (e) => {
        // `error` is also EventSource's own failure event, which carries no data.
        if (type === "error" && typeof e.data !== "string") return fail();
        h.event(type, e.data ?? "", e.lastEventId || undefined);
      });
    }
    return {
      close() {
        done = true;
        es.close();
      },
    };
  };
}

/**
 * SSE over `fetch`. `idleMs`: no byte (not even the server's `: ping` comment) for this long
 * means the path is dead; the stream is failed so that it reconnects.
 */
export function fetchOpener(fetchFn: typeof fetch, idleMs: number): SseOpener {
  return (url, h) => {
    const abort = new AbortController();
    let done = false;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const fail = (status?: number) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      abort.abort();
      h.error(status);
    };
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(), idleMs);
    };
    (async () => {
      touch();
      const res = await fetchFn(url, { headers: { Accept: "text/event-stream" }, signal: abort.signal });
      if (res.status !== 200 || !res.body) return fail(res.status);
      h.open();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser(h);
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        touch();
        parser.push(value);
      }
      fail();
    })().catch(() => fail());
    return {
      close() {
        done = true;
        clearTimeout(idle);
        abort.abort();
      },
    };
  };
}

/** The SSE wire format: `field: value` lines, an empty line ends an event, `:` starts a comment. */
class SseParser {
  #buf = "";
  #type = "";
  #data: string[] = [];
  #id: string | undefined;

  constructor(readonly h: StreamHandlers) {}

  push(chunk: string): void {
    this.#buf += chunk;
    let nl: number;
    while ((nl = this.#buf.search(/\r\n|\r|\n/)) !== -1) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + (this.#buf.startsWith("\r\n", nl) ? 2 : 1));
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === "") {
      if (this.#data.length > 0) this.h.event(this.#type || "message", this.#data.join("\n"), this.#id);
      this.#type = "";
      this.#data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#type = value;
    else if (field === "id") this.#id = value;
  }
}
