/**
 * One SSE stream. It writes straight into its response's socket buffer (a direct stream) and
 * counts what piles up once the socket is backed up: ephemeral events are dropped while it is
 * backed up; a durable event that does not fit ends the stream with `event: overflow`, so the
 * browser reconnects with `Last-Event-ID` and loses nothing.
 *
 * A disconnect shows up as `cancel()`, `req.signal` aborting or a `write` returning 0, so
 * clean-up is idempotent.
 * @module
 */
import type { HubMetrics } from "../../core/hub-metrics.ts";
import { compareSeq, durablePart, parseSeq } from "../../core/seq.ts";
import type { SseRun, SseSink } from "./sse-transport.ts";

const utf8 = new TextEncoder();

/**
 * A stream whose socket stayed backed up through this many pings in a row ends with `event:
 * overflow` (30 to 45 s at the default 15 s). Its reader has stopped reading: while backed up,
 * ephemeral events are dropped and pings skipped, so a stream of ticks or of a quiet topic would
 * otherwise hold its socket and state forever (`SIGSTOP`ped client, dead peer behind a proxy).
 */
const STALLED_PINGS = 3;

const OVERFLOW_EVENT = `event: overflow\ndata: {"op":"overflow","message":"stream fell behind; reconnect with Last-Event-ID"}\n\n`;

export class SseConnection implements SseSink {
  /**
   * The direct stream's controller: `write` hands bytes to the response's socket buffer and
   * returns a number while the socket keeps up (0 once the client has gone), or a promise once
   * it is backed up, settled when Bun has drained it; the bytes are accepted either way. Bun
   * (1.4.5) buffers writes under 2 KiB and sends them after the current callback, so no `flush`
   * is needed, and the transport writes a turn's events as one chunk (sse-transport.ts). A
   * default stream's `enqueue`, queue and read loop cost ~10% more CPU per delivery (bench/fanout).
   */
  #writer: ReadableStreamDirectController | undefined;
  #closed = false;
  #cleanup: () => void;
  #beforeText: () => void;
  #metrics: HubMetrics;
  #queueBytes: number;
  /**
   * The newest durable position this stream has given its client (where it starts, then every
   * durable event's seq); `undefined` on a stream of ticks only. See {@link sendTick}.
   */
  #watermark: string | undefined;
  /**
   * The client's `Last-Event-ID` when it has no durable counter (a tick's `<tick>-0`, a bare
   * `<ms>`): until a durable event moves the watermark, ticks and older ephemeral events are sent
   * under it as is, not `<it>.<k>`. A resume from `<tick>-0` starts at the tick's mark, which can be
   * older than the tick (entries numbered before it delivered after it); `<tick>-0.<k>` would start
   * after the tick and skip them, and `<ms>.<k>` is not a seq at all.
   */
  #offset: string | undefined;
  /** Bytes written since the socket reported backpressure; 0 while it keeps up. */
  #backlog = 0;
  /** Pings that found the socket backed up since it last drained. */
  #stalledPings = 0;
  #ended: () => void = () => {};
  /** Settles when the connection is closed or abandoned: the end of the direct stream's `pull`. */
  readonly ended = new Promise<void>((resolve) => (this.#ended = resolve));

  /**
   * @param queueBytes bytes it may queue once its socket is backed up; past that a durable
   *   event ends the stream with `event: overflow`.
   * @param cleanup runs once when the stream ends, whichever way.
   * @param beforeText runs before a control event or comment is written: the transport writes
   *   the live events it holds for the end of the turn, so that none is overtaken.
   */
  constructor(metrics: HubMetrics, queueBytes: number, cleanup: () => void, beforeText: () => void = () => {}) {
    this.#metrics = metrics;
    this.#queueBytes = queueBytes;
    this.#cleanup = cleanup;
    this.#beforeText = beforeText;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting behind a backed-up socket (0 when it keeps up). */
  get backlog(): number {
    return this.#backlog;
  }

  /**
   * Where the stream starts on its durable topics: its resume offset (`resumed`, the client's
   * `Last-Event-ID`), or the newest position of them.
   */
  startAt(position: string | undefined, resumed = false): void {
    this.#watermark = position === undefined ? undefined : durablePart(position);
    const parts = resumed && position !== undefined ? parseSeq(position) : undefined;
    this.#offset = parts && parts.n === 0 && parts.k === undefined ? position : undefined;
  }

  bind(writer: ReadableStreamDirectController): void {
    this.#writer = writer;
  }

  /**
   * Writes raw text (comments, control events) while the queue has room for it; past the queue's
   * size the stream overflows, so that not even pings pile up behind a stalled reader.
   */
  writeText(text: string): void {
    if (this.#closed || !this.#writer) return;
    this.#beforeText();
    if (this.#closed) return;
    if (this.#backlog > 0 && this.#backlog + text.length > this.#queueBytes) return this.overflow();
    this.#write(text, text.length);
  }

  /**
   * A `: ping` comment, skipped while the stream is backed up (it is not idle, only slow), unless
   * it has been backed up for {@link STALLED_PINGS} pings: then it ends with `event: overflow`.
   */
  ping(text: string): void {
    if (this.#backlog === 0) this.writeText(text);
    else if (++this.#stalledPings >= STALLED_PINGS) this.overflow();
  }

  send(chunk: Uint8Array, ephemeral: boolean, family: string, seq?: string): void {
    if (this.#closed || !this.#writer) return;
    // Another topic's copy of the entry just written (`timers`, `timer:<id>` and `session:<sid>`
    // carry one entry under one seq): the client's Last-Event-ID is that seq already, so a stream
    // ended before this copy would resume after the entry and never send it. It is queued past
    // the limit instead (at most one copy per topic of the stream).
    const copy = !ephemeral && seq !== undefined && seq === this.#watermark;
    if (!ephemeral && seq !== undefined) this.#watermark = seq;
    // An ephemeral frame after an older position than this stream's (a topic quieter than the
    // others): its id would resume from there and repeat what the stream sent since.
    else if (ephemeral && seq !== undefined && this.#behind(seq)) {
      chunk = withId(chunk, seq, this.#idAt(seq.slice(seq.indexOf(".") + 1)));
    }
    if (this.#backlog > 0) {
      if (ephemeral) {
        this.#metrics.dropped(family, "backpressure", 1);
        return;
      }
      if (!copy && this.#backlog + chunk.byteLength > this.#queueBytes) {
        this.#metrics.dropped(family, "overflow", 1);
        this.overflow();
        return;
      }
    }
    this.#write(chunk, chunk.byteLength);
  }

  /** Several events at once: one write while the socket keeps up, else each under the policy above. */
  sendRun(run: SseRun, family: string): void {
    if (this.#closed || !this.#writer) return;
    let whole = this.#backlog === 0;
    let watermark = this.#watermark;
    for (const event of run.events) {
      if (!event.ephemeral) watermark = event.seq;
      else if (whole && behind(event.seq, watermark)) whole = false;
    }
    if (whole) {
      this.#watermark = watermark;
      return this.#write(run.bytes, run.bytes.byteLength);
    }
    for (const event of run.events) {
      this.send(event.chunk, event.ephemeral, family, event.seq);
      if (this.#closed) return;
    }
  }

  /**
   * A tick's event. On a stream that also follows durable topics its id is this stream's durable
   * position plus a counter (`<watermark>.<tick ms × 1000>`), not the tick's `<ms>-0`: with one
   * `Last-Event-ID` for every topic, resuming from a tick's own seq would skip the entries
   * numbered before it but not yet delivered when it went out (the tail a moment behind, or
   * Redis's clock behind this instance's). The data keeps the tick's seq. (Resumed from a
   * `<tick>-0` and no durable event since: that offset as is, see {@link #offset}.)
   */
  sendTick(chunk: Uint8Array, seq: string, family: string): void {
    if (this.#watermark === undefined) return this.send(chunk, true, family);
    const ms = Number(seq.slice(0, seq.indexOf("-")));
    this.send(withId(chunk, seq, this.#idAt(String(ms * 1000))), true, family);
  }

  /** The id of an ephemeral event at this stream's position, its counter `k` (see {@link #offset}). */
  #idAt(k: string): string {
    return this.#watermark === this.#offset ? this.#offset! : `${this.#watermark}.${k}`;
  }

  #behind(seq: string): boolean {
    return behind(seq, this.#watermark);
  }

  /** Ends the stream with `event: overflow`; the browser reconnects with `Last-Event-ID`. */
  overflow(): void {
    if (this.#closed || !this.#writer) return this.close();
    // Not through writeText: no held events are pushed into a stream ending because it cannot
    // take them; the client resumes after the last id it got.
    this.#write(OVERFLOW_EVENT, OVERFLOW_EVENT.length);
    this.close();
  }

  /** Ends the stream (idempotent) and unregisters it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cleanup();
    try {
      this.#writer?.close();
    } catch {}
    this.#ended();
  }

  /** Called when the client went away: no more writes, just clean-up. */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cleanup();
    this.#ended();
  }

  #write(data: string | Uint8Array, bytes: number): void {
    let result: number | Promise<number>;
    try {
      result = this.#writer!.write(data);
    } catch {
      this.abandon();
      return;
    }
    if (result === 0 && bytes > 0) {
      this.abandon(); // the client has gone
      return;
    }
    if (typeof result === "number") return;
    // Backed up: count what goes on piling up until Bun reports the buffer flushed. Every write
    // of one backed-up stretch returns the same promise, and a new stretch starts only after it
    // has settled, so one handler per stretch is enough.
    if (this.#backlog === 0) {
      result.then(
        () => {
          this.#backlog = 0;
          this.#stalledPings = 0;
        },
        () => this.abandon(),
      );
    }
    this.#backlog += bytes;
  }
}

/** Whether ephemeral `seq`'s position (`<pos>.<k>`) is before `watermark`. */
function behind(seq: string, watermark: string | undefined): boolean {
  if (watermark === undefined) return false;
  const position = durablePart(seq);
  return position !== watermark && position !== seq && compareSeq(position, watermark) < 0;
}

/** `chunk` (an encoded `id: <seq>\n…` event) with the id `id` instead. */
function withId(chunk: Uint8Array, seq: string, id: string): Uint8Array {
  const idLine = `id: ${seq}\n`.length;
  const own = utf8.encode(`id: ${id}\n`);
  const bytes = new Uint8Array(own.byteLength + chunk.byteLength - idLine);
  bytes.set(own);
  bytes.set(chunk.subarray(idLine), own.byteLength);
  return bytes;
}
