/**
 * SSE delivery for the hub: the live streams of each topic. A frame is encoded as an SSE event
 * once per topic and event, and the same bytes are handed to every stream of the topic; each
 * stream applies its own bounded-queue policy.
 *
 * Events are held until the end of the event-loop turn ({@link SseTransport.flush} on
 * `setImmediate`), then written: consecutive events of one topic as one chunk, one `write` per
 * stream. Why: Bun (1.4.5) flushes a direct stream's buffer into the socket after every
 * callback (its auto-flush runs at each microtask drain), so when the server falls behind and one
 * read brings several publishes, each one costs every stream its own `sendto` (100 streams, 25
 * publishes in 5 bursts: 2500 sends, bench/load/fanout/README.md). WebSocket does not pay that:
 * uWS drains a turn's `publish`es per socket in one send. Holding them to the end of the turn
 * gives SSE the same: the further behind, the fewer sends per event, instead of a queue that
 * grows. SSE is a byte stream, so the client sees the same events in the same order.
 * @module
 */
import { sseEvent } from "../../core/frame.ts";
import { topicFamily } from "../../core/topic.ts";
import type { Transport } from "../../core/transport.ts";
import { concatChunks, type QueuedEvent, type SseRun } from "./sse-run.ts";

export type { QueuedEvent, SseRun } from "./sse-run.ts";

/** An SSE connection's writer, as the transport needs it. */
export interface SseSink {
  /**
   * Queues an encoded SSE event; `ephemeral` events may be dropped under backpressure. The
   * chunk is shared by every sink of the topic and must not be modified.
   */
  send(chunk: Uint8Array, ephemeral: boolean, family: string, seq?: string): void;
  /**
   * A tick's event (`<ms>-0`, of a topic without a history), which a stream that also follows
   * durable topics sends under an id of its own (see `SseConnection.sendTick`).
   */
  sendTick?(chunk: Uint8Array, seq: string, family: string): void;
  /**
   * Several consecutive events of one topic at once (shared, must not be modified): one write
   * while the stream keeps up, else each event under the backpressure policy. Without it the
   * transport calls `send` per event.
   */
  sendRun?(run: SseRun, family: string): void;
  /** Ends the stream with `event: overflow` so that the client resumes with `Last-Event-ID`. */
  overflow(): void;
}

interface Queued extends QueuedEvent {
  topic: string;
}

/**
 * Events held at most before they are written at once: bounds the memory and the size of one
 * write when a single turn delivers many events (and keeps callers that never yield, such as
 * micro benchmarks, from piling them up).
 */
const MAX_QUEUED = 64;

const utf8 = new TextEncoder();

export class SseTransport implements Transport {
  #sinks = new Map<string, Set<SseSink>>();
  #onError: (error: unknown, topic: string) => void;
  #queue: Queued[] = [];
  #scheduled = false;
  #flushing = false;
  readonly #flushSoon = () => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(onError: (error: unknown, topic: string) => void = () => {}) {
    this.#onError = onError;
  }

  /**
   * Starts live delivery of `topic` to `sink`. Events already held are written first, to the
   * streams that were live when they were delivered: a stream switching from replay to live
   * got them from its replay, and must not get them twice.
   */
  add(topic: string, sink: SseSink): void {
    this.flush();
    let set = this.#sinks.get(topic);
    if (!set) this.#sinks.set(topic, (set = new Set()));
    set.add(sink);
  }

  remove(topic: string, sink: SseSink): void {
    const set = this.#sinks.get(topic);
    if (!set) return;
    set.delete(sink);
    if (set.size === 0) this.#sinks.delete(topic);
  }

  /** Live SSE subscriptions across all topics (a stream on two topics counts twice). */
  get subscriptions(): number {
    let n = 0;
    for (const set of this.#sinks.values()) n += set.size;
    return n;
  }

  receivers(topic: string): number {
    return this.#sinks.get(topic)?.size ?? 0;
  }

  deliver(topic: string, frame: string, seq: string, ephemeral: boolean): number {
    const sinks = this.#sinks.get(topic);
    if (!sinks) return 0;
    this.#queue.push({ topic, chunk: utf8.encode(sseEvent(seq, frame)), ephemeral, seq });
    if (this.#queue.length >= MAX_QUEUED) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushSoon);
    }
    return sinks.size;
  }

  /**
   * Writes every held event now, in delivery order (the end of the turn does it anyway). Called
   * before a stream goes live and before control events, so that nothing overtakes them.
   */
  flush(): void {
    if (this.#flushing) return; // re-entered from a write: the loop below goes on
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const queue = this.#queue;
        this.#queue = [];
        for (let i = 0; i < queue.length; ) {
          const topic = queue[i]!.topic;
          let end = i + 1;
          while (end < queue.length && queue[end]!.topic === topic) end++;
          this.#write(topic, queue, i, end);
          i = end;
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  reset(affected: (topic: string) => boolean): number {
    this.flush();
    let n = 0;
    for (const [topic, sinks] of this.#sinks) {
      if (!affected(topic)) continue;
      for (const sink of [...sinks]) {
        sink.overflow();
        n++;
      }
    }
    return n;
  }

  /** Hands `queue[from..end)`, consecutive events of `topic`, to the topic's streams. */
  #write(topic: string, queue: Queued[], from: number, end: number): void {
    const sinks = this.#sinks.get(topic);
    if (!sinks) return;
    const family = topicFamily(topic);
    if (isTick(queue[from]!)) return this.#writeTicks(topic, sinks, queue, from, end, family);
    if (end - from > 1 && sinks.values().next().value?.sendRun) {
      // Joined once and shared: one write per stream (connections all take runs).
      const run: SseRun = { bytes: concatChunks(queue, from, end), events: queue.slice(from, end) };
      for (const sink of sinks) {
        try {
          if (sink.sendRun) sink.sendRun(run, family);
          else for (const e of run.events) sink.send(e.chunk, e.ephemeral, family, e.seq);
        } catch (error) {
          this.#onError(error, topic);
        }
      }
      return;
    }
    for (let i = from; i < end; i++) {
      const { chunk, ephemeral, seq } = queue[i]!;
      for (const sink of sinks) {
        try {
          sink.send(chunk, ephemeral, family, seq);
        } catch (error) {
          this.#onError(error, topic);
        }
      }
    }
  }

  /** A tick topic's events (one a second, seldom more in a turn), each under each stream's own id. */
  #writeTicks(topic: string, sinks: Set<SseSink>, queue: Queued[], from: number, end: number, family: string): void {
    for (let i = from; i < end; i++) {
      const { chunk, seq } = queue[i]!;
      for (const sink of sinks) {
        try {
          if (sink.sendTick) sink.sendTick(chunk, seq, family);
          else sink.send(chunk, true, family, seq);
        } catch (error) {
          this.#onError(error, topic);
        }
      }
    }
  }
}

/** A tick's event: ephemeral, on a topic without a history (`<ms>-0`, no `.<k>`). */
export function isTick(event: { ephemeral: boolean; seq: string }): boolean {
  return event.ephemeral && !event.seq.includes(".");
}
