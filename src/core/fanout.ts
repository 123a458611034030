/**
 * The hub's transports, and the handing of one frame to each of them that has receivers for
 * its topic. Counting comes first (most derived topics have nobody listening, and then no frame
 * is built); the counts are kept in one reused array, except in a fanout started from inside
 * another (a transport's delivery led to an emit), which counts into its own so the outer one
 * still reaches every transport it counted.
 * @module
 */
import type { HubMetrics } from "./hub-metrics.ts";
import { topicFamily } from "./topic.ts";
import type { Transport } from "./transport.ts";

export class Fanout {
  readonly #transports: Transport[] = [];
  readonly #counts: number[] = [];
  #running = 0;
  readonly #metrics: HubMetrics;
  readonly #onError: (error: unknown, context: string) => void;

  constructor(metrics: HubMetrics, onError: (error: unknown, context: string) => void) {
    this.#metrics = metrics;
    this.#onError = onError;
  }

  get transports(): readonly Transport[] {
    return this.#transports;
  }

  add(transport: Transport): void {
    this.#transports.push(transport);
    this.#counts.push(0);
  }

  /** Receivers of `topic` per transport; `undefined` if no transport has any. */
  count(topic: string): number[] | undefined {
    const counts = this.#running === 0 ? this.#counts : new Array<number>(this.#transports.length);
    let any = false;
    for (let i = 0; i < this.#transports.length; i++) {
      const n = this.#transports[i]!.receivers(topic);
      counts[i] = n;
      if (n > 0) any = true;
    }
    return any ? counts : undefined;
  }

  /** Counts `frame` as published and hands it to the transports with receivers in `counts`. */
  deliver(topic: string, frame: string, seq: string, ephemeral: boolean, counts: number[] | undefined): void {
    const family = topicFamily(topic);
    this.#metrics.published(family);
    if (!counts) return;
    let delivered = 0;
    this.#running++;
    try {
      for (let i = 0; i < this.#transports.length; i++) {
        const n = counts[i]!;
        if (n === 0) continue;
        try {
          delivered += this.#transports[i]!.deliver(topic, frame, seq, ephemeral, n);
        } catch (error) {
          this.#onError(error, `transport delivery on ${topic}`);
        }
      }
    } finally {
      this.#running--;
    }
    if (delivered > 0) this.#metrics.delivered(family, delivered);
  }
}
