/**
 * WebSocket delivery for the hub: one native `server.publish` per topic and event (Bun fans it
 * out in C++), the registry of open sockets, and each socket's {@link Subscriptions}.
 *
 * `server.publish` returns the worst subscriber's status, 0 when one of them dropped the frame
 * (seen on Bun 1.4.5). Retrying would duplicate the frame for everyone else, so a drop is handled
 * per socket: an ephemeral frame is simply lost to the backed-up sockets (counted); for a durable
 * frame the sockets that could not take it are closed with 4008 so that they resume with `since`.
 *
 * With `writeDelayMs` > 0 (`WRITE_DELAY_MS`) frames are held for that window and then published,
 * each on its own, in one callback ({@link PublishWindow}): uWS writes a socket's frames of one
 * callback in one send, so at high message rates a delivery costs a fraction of the syscalls.
 * A socket going live first lets the held frames go to the sockets that were live when they were
 * delivered: one switching from replay got them from its replay (no duplicate, no reordering).
 * @module
 */

import type { HubMetrics } from "../../core/hub-metrics.ts";
import type { ReplayBudget } from "../../core/replay-limits.ts";
import { type Replayer, Subscriptions } from "../../core/subscriptions.ts";
import { topicFamily } from "../../core/topic.ts";
import type { Transport } from "../../core/transport.ts";
import type { Logger } from "../../log.ts";
import { PublishWindow } from "./publish-window.ts";
import { CloseCode, closeSocket, type Socket } from "./socket.ts";
import { wsSubscriber } from "./ws-subscriber.ts";

/** The part of Bun's `Server` this transport uses. */
export interface PubSub {
  publish(topic: string, data: string): number;
  subscriberCount(topic: string): number;
}

export interface WsTransportOptions {
  replayer: Replayer;
  /** Bytes a socket may buffer; past it a replaying socket overflows, a live one loses frames. */
  backpressureLimit: number;
  metrics: HubMetrics;
  log: Logger;
  /** Gives each socket its replay allowance. */
  replayBudget?: (sub: string | undefined) => ReplayBudget;
  /**
   * `WRITE_DELAY_MS`: how long live frames are held so that a socket's frames leave in one
   * write (each still its own message); 0 publishes every frame at once (lowest latency).
   */
  writeDelayMs?: number;
}

export class WsTransport implements Transport {
  readonly #opts: WsTransportOptions;
  readonly #sockets = new Set<Socket>();
  #server: PubSub | undefined;
  readonly #window: PublishWindow | undefined;
  readonly #flushHeld = () => this.#window?.flush();

  constructor(opts: WsTransportOptions) {
    this.#opts = opts;
    const delay = opts.writeDelayMs ?? 0;
    if (delay > 0) this.#window = new PublishWindow(delay, (topic, frame, ephemeral) => this.#publish(topic, frame, ephemeral));
  }

  /** Open sockets. */
  get count(): number {
    return this.#sockets.size;
  }

  /** Connects native pub/sub once the server exists; until then no socket can be subscribed. */
  bind(server: PubSub): void {
    this.#server = server;
  }

  /** Registers an opened socket and gives it its subscriptions. */
  opened(ws: Socket): void {
    this.#sockets.add(ws);
    ws.data.subscriptions = new Subscriptions(
      this.#opts.replayer,
      wsSubscriber(ws, this.#opts.backpressureLimit, this.#opts.log, this.#flushHeld),
      this.#opts.replayBudget?.(ws.data.principal?.sub),
      ws.data.principal?.sub,
    );
  }

  /** Forgets a closed socket and cancels its replays. */
  closed(ws: Socket): void {
    this.#sockets.delete(ws);
    ws.data.closed = true;
    ws.data.subscriptions?.clear();
  }

  receivers(topic: string): number {
    return this.#server?.subscriberCount(topic) ?? 0;
  }

  deliver(topic: string, frame: string, _seq: string, ephemeral: boolean, receivers: number): number {
    // Held frames are counted as reached; a socket closed for one of them is counted as dropped.
    if (!this.#window) return receivers - this.#publish(topic, frame, ephemeral);
    this.#window.hold(topic, frame, ephemeral);
    return receivers;
  }

  /** One native publish; returns how many sockets were closed because they could not take it. */
  #publish(topic: string, frame: string, ephemeral: boolean): number {
    if (this.#server?.publish(topic, frame) !== 0) return 0;
    if (ephemeral) {
      // Not worth finding which sockets lost it: a scan of every socket on every tick would
      // stall the ticker, and losing ephemeral frames under backpressure is the policy.
      this.#opts.metrics.dropped(topicFamily(topic), "backpressure", 1);
      return 0;
    }
    return this.#closeBackedUp(topic, frame.length);
  }

  reset(affected: (topic: string) => boolean): number {
    this.#flushHeld();
    let n = 0;
    for (const ws of this.#sockets) {
      if (ws.data.closed || !ws.data.subscriptions) continue;
      for (const topic of ws.data.subscriptions.topics()) {
        if (!affected(topic)) continue;
        closeSocket(ws, CloseCode.overflow, "missed events; reconnect with since");
        n++;
        break;
      }
    }
    return n;
  }

  /** Closes every socket (shutdown). */
  closeAll(code: number, reason: string): void {
    this.#flushHeld();
    for (const ws of this.#sockets) closeSocket(ws, code, reason);
  }

  /** After a reported drop: closes (4008) the subscribers of `topic` that could not take `bytes`. */
  #closeBackedUp(topic: string, bytes: number): number {
    // Rare (only after Bun reported a drop), so a scan of the open sockets is fine here.
    let n = 0;
    for (const ws of this.#sockets) {
      if (ws.data.closed || !ws.isSubscribed(topic) || ws.getBufferedAmount() + bytes <= this.#opts.backpressureLimit) continue;
      n++;
      closeSocket(ws, CloseCode.overflow, "backed up past the limit; reconnect with since");
    }
    if (n > 0) {
      this.#opts.metrics.dropped(topicFamily(topic), "overflow", n);
      this.#opts.log.debug({ topic, sockets: n }, "frame dropped for backed-up sockets");
    }
    return n;
  }
}
