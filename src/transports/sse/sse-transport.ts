/**
 * SSE delivery for the hub: the live streams of each topic. A frame is encoded as an SSE event
 * once per topic and event, and the same bytes are handed to every stream of the topic; each
 * stream applies its own bounded-queue policy.
 * @module
 */
import { sseEvent } from "../../core/frame.ts";
import { topicFamily } from "../../core/topic.ts";
import type { Transport } from "../../core/transport.ts";

/** An SSE connection's writer, as the transport needs it. */
export interface SseSink {
  /**
   * Queues an encoded SSE event; `ephemeral` events may be dropped under backpressure. The
   * chunk is shared by every sink of the topic and must not be modified.
   */
  send(chunk: Uint8Array, ephemeral: boolean, family: string): void;
  /** Ends the stream with `event: overflow` so that the client resumes with `Last-Event-ID`. */
  overflow(): void;
}

const utf8 = new TextEncoder();

export class SseTransport implements Transport {
  #sinks = new Map<string, Set<SseSink>>();
  #onError: (error: unknown, topic: string) => void;

  constructor(onError: (error: unknown, topic: string) => void = () => {}) {
    this.#onError = onError;
  }

  /** Starts live delivery of `topic` to `sink`. */
  add(topic: string, sink: SseSink): void {
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
    const chunk = utf8.encode(sseEvent(seq, frame));
    const family = topicFamily(topic);
    for (const sink of sinks) {
      try {
        sink.send(chunk, ephemeral, family);
      } catch (error) {
        this.#onError(error, topic);
      }
    }
    return sinks.size;
  }

  reset(affected: (topic: string) => boolean): number {
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
}
