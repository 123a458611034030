/**
 * `WRITE_DELAY_MS` for WebSocket: live frames are held for a short window, then published one by
 * one, in delivery order, inside one callback. Each frame stays its own `server.publish` and so
 * its own WebSocket message; what changes is the syscalls. uWS (Bun 1.4.5) queues a `publish`
 * under 16 KiB and writes a socket's queued messages in one send when the callback returns (32
 * at most per send): 1000 sockets × 5 frames published in one callback cost 1.6 µs of server CPU
 * per delivery against 6.5–7.4 µs for one frame per callback, and 1.9 µs for the same frames sent
 * per socket inside `ws.cork` (bench/load/fanout/README.md). The price is latency: a frame waits
 * up to the window.
 * @module
 */

/** Frames held at most (or bytes): past either the window is published at once. */
const MAX_FRAMES = 1024;
const MAX_BYTES = 1 << 20;

export class PublishWindow {
  readonly #delayMs: number;
  readonly #publish: (topic: string, frame: string, ephemeral: boolean) => void;
  #topics: string[] = [];
  #frames: string[] = [];
  #ephemeral: boolean[] = [];
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing = false;
  readonly #onTimer = () => {
    this.#timer = undefined;
    this.flush();
  };

  /** @param publish publishes one held frame (and handles what the publish reports). */
  constructor(delayMs: number, publish: (topic: string, frame: string, ephemeral: boolean) => void) {
    this.#delayMs = delayMs;
    this.#publish = publish;
  }

  /** Frames waiting for the window to close. */
  get size(): number {
    return this.#frames.length;
  }

  hold(topic: string, frame: string, ephemeral: boolean): void {
    this.#topics.push(topic);
    this.#frames.push(frame);
    this.#ephemeral.push(ephemeral);
    this.#bytes += frame.length;
    if (this.#frames.length >= MAX_FRAMES || this.#bytes >= MAX_BYTES) this.flush();
    else this.#timer ??= setTimeout(this.#onTimer, this.#delayMs);
  }

  /** Publishes every held frame now, in the order they were held. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#flushing) return; // re-entered from a publish: the loop below goes on
    this.#flushing = true;
    try {
      this.#drain();
    } finally {
      this.#flushing = false;
    }
  }

  #drain(): void {
    while (this.#frames.length > 0) {
      // Swapped first: a publish that closes a socket must not see (or re-enter) this batch.
      const topics = this.#topics;
      const frames = this.#frames;
      const ephemeral = this.#ephemeral;
      this.#topics = [];
      this.#frames = [];
      this.#ephemeral = [];
      this.#bytes = 0;
      for (let i = 0; i < frames.length; i++) this.#publish(topics[i]!, frames[i]!, ephemeral[i]!);
    }
  }
}
