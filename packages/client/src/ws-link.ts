/**
 * The WebSocket transport: one socket on `/ws` carries every subscription as in-band ops. After
 * any drop it reconnects with backoff and resubscribes each topic from its last seq. A ping
 * (or another request of the link's own) left unanswered means the path is dead (a cut network
 * sends no close): the socket is abandoned and a new one opened. A publish or presence left
 * unanswered only rejects (a publish waiting on a slow store is no dead path), and a ping then
 * checks the path. The token is renewed in-band (`op: refresh`) before it expires, so the
 * socket stays open across the old token's `exp`.
 *
 * A topic's frames are handed on only once the server has acknowledged its current subscription
 * on this socket: the server acks a subscribe before any frame of it, so frames before the ack
 * are an earlier subscription's, still in flight after its unsubscribe (they must not raise the
 * new one's last seq past the replay it asked for). An unsubscribe is a request too: while it is
 * unanswered, subscribing the topic again waits; refused or unanswered, the server still has the
 * subscription (a later subscribe would be acked without its replay), so the socket is replaced:
 * a new one starts with none, and every subscription resumes from its last seq.
 * @module
 */
import type { Backoff } from "./backoff.ts";
import type { FrameHead, PresenceSnapshot, PublishAck } from "./frames.ts";
import type { Link, LinkHost, WebSocketConstructor, WebSocketLike } from "./link.ts";
import { Requests } from "./requests.ts";
import { TickwireError, type TopicState } from "./subscription.ts";
import { refreshLead } from "./token.ts";

/** Closes after which retrying with the same token is pointless. */
const AUTH_CLOSES = new Set([4401, 4403]);
/** Server errors after which a subscribe is retried, not dropped. */
const RETRY_CODES = new Set(["rate_limited", "replay_failed", "timeout", "outcome_unknown"]);

export class WsLink implements Link {
  readonly #host: LinkHost;
  readonly #url: (token: string | undefined) => string;
  readonly #WebSocket: WebSocketConstructor;
  readonly #backoff: Backoff;
  #ws: WebSocketLike | undefined;
  #open = false;
  #stopped = true;
  #requests = new Requests();
  /** This socket's timers; each leaves the set when it runs or the socket ends. */
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Requests of the application waiting for a connection: woken at open, failed at close(). */
  readonly #waiters = new Set<{ wake(): void; fail(error: TickwireError): void }>();
  /** The subscription of each topic the server acknowledged on this socket: only its frames are handed on. */
  readonly #confirmed = new Map<string, TopicState<any>>();
  /** Topics whose unsubscribe this socket's server has not answered yet: subscribing one again waits. */
  readonly #leaving = new Set<string>();
  /** The server refused the last token (4401/4403): ask getToken for a new one. */
  #needFreshToken = false;
  /** When the current socket opened (a quiet one that lasted `maxMs` worked too). */
  #openedAt: number | undefined;

  constructor(host: LinkHost, url: (token: string | undefined) => string, WebSocket: WebSocketConstructor) {
    this.#host = host;
    this.#url = url;
    this.#WebSocket = WebSocket;
    this.#backoff = host.newBackoff();
  }

  start(): void {
    this.#stopped = false;
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    // Not retrying: the close fails the requests waiting for a connection too.
    this.#drop(1000, "closed by the application", false);
  }

  added(topic: string): void {
    if (this.#open && !this.#leaving.has(topic)) this.#subscribe(topic);
  }

  removed(topic: string): void {
    this.#confirmed.delete(topic);
    // Still leaving: the subscribe since then was never sent, there is nothing more to undo.
    if (!this.#open || this.#leaving.has(topic)) return;
    const ws = this.#ws;
    this.#leaving.add(topic);
    this.#request({ op: "unsubscribe", topic }, false).then(
      () => {
        if (this.#ws !== ws) return;
        this.#leaving.delete(topic);
        if (this.#host.subs.has(topic)) this.#subscribe(topic);
      },
      (error: TickwireError) => {
        // Refused (rate_limited): the server keeps the subscription. A timeout has dropped the socket already.
        if (this.#ws === ws && this.#open) this.#drop(4000, `an unsubscribe was refused (${error.code}); reconnecting`, true);
      },
    );
  }

  async publish(topic: string, data: unknown): Promise<PublishAck> {
    const ack = await this.#request({ op: "publish", topic, data }, true);
    return { topic, seq: String(ack.seq) };
  }

  async presence(topic: string): Promise<PresenceSnapshot> {
    const ack = await this.#request({ op: "presence", topic }, true);
    return ack.presence as PresenceSnapshot;
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    this.#host.setState("connecting");
    let token: string | undefined;
    try {
      token = this.#needFreshToken ? await this.#host.tokens.fresh() : await this.#host.tokens.current();
      this.#needFreshToken = false;
    } catch (error) {
      return this.#closed(0, `getToken failed: ${(error as Error).message}`, true);
    }
    if (this.#stopped) return;
    const ws = new this.#WebSocket(this.#url(token));
    this.#ws = ws;
    ws.onopen = () => this.#opened();
    ws.onmessage = (event) => this.#message(String(event.data));
    ws.onclose = (event) => this.#dropped(ws, event.code, event.reason);
    ws.onerror = () => {};
  }

  #opened(): void {
    this.#open = true;
    this.#openedAt = Date.now();
    this.#host.setState("connected");
    for (const topic of this.#host.subs.keys()) this.#subscribe(topic);
    for (const waiter of [...this.#waiters]) waiter.wake();
    const { pingIntervalMs } = this.#host.timing;
    if (pingIntervalMs > 0) this.#every(pingIntervalMs, () => this.#request({ op: "ping" }, false).catch(() => {}));
    this.#scheduleRefresh();
  }

  #subscribe(topic: string): void {
    const sub = this.#host.subs.get(topic);
    if (!sub) return;
    const since = sub.resume();
    this.#confirmed.delete(topic);
    // Confirmed while the ack is handled, before the frames after it: they are this subscription's.
    const confirm = (ack: Record<string, unknown>) => {
      if (this.#host.subs.get(topic) !== sub) return;
      this.#confirmed.set(topic, sub);
      sub.acked(ack);
    };
    this.#request({ op: "subscribe", topic, ...(since === undefined ? {} : { since }) }, false, confirm).then(
      () => {
        if (this.#host.subs.get(topic) !== sub) return;
        sub.handlers.onSubscribed?.({ topic, since });
      },
      (error: TickwireError) => {
        if (this.#host.subs.get(topic) !== sub || !this.#open) return;
        if (RETRY_CODES.has(error.code)) this.#later(this.#backoff.next(), () => this.#subscribe(topic));
        else this.#host.subscribeFailed(topic, error);
      },
    );
  }

  #message(text: string): void {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (frame.op === undefined) {
      if (typeof frame.topic === "string" && typeof frame.seq === "string" && this.#current(frame.topic)) {
        // A frame delivered shows the connection works: later drops start the backoff over.
        this.#backoff.reset();
        this.#host.frame(frame as unknown as FrameHead);
      }
      return;
    }
    if (this.#requests.answer(frame)) return;
    if (frame.op === "recovered" && typeof frame.topic === "string") return void (this.#current(frame.topic) && this.#host.notRecovered(frame.topic));
    if (frame.op !== "error") return;
    // A replay the server could not finish dropped that subscription: resubscribe from its seq.
    if (typeof frame.topic === "string" && this.#current(frame.topic)) {
      const topic = frame.topic;
      return this.#later(this.#backoff.next(), () => this.#subscribe(topic));
    }
    if (frame.code === "replay_failed") this.#drop(4000, "a replay failed; resuming", true);
  }

  /** Whether `topic`'s frames are its current subscription's: the server acknowledged it on this socket. */
  #current(topic: string): boolean {
    const sub = this.#host.subs.get(topic);
    return sub !== undefined && this.#confirmed.get(topic) === sub;
  }

  /**
   * Sends a request and awaits its answer; `onAck`: called with an ack as it is handled (see
   * {@link Requests.open}). `wait`: the application's request (publish, presence): it first waits
   * for the connection, and unanswered it only rejects (`outcome_unknown`) and a ping checks the
   * path. The server answers a ping at once but a publish only once stored: a store slower than
   * the timeout is no dead path, and dropping the socket for it made every subscription resume
   * and the connection leave and join its presence topics again. The link's own requests
   * (subscribe, unsubscribe, ping, refresh) unanswered drop the socket: it is dead, or out of step.
   */
  async #request(op: Record<string, unknown>, wait: boolean, onAck?: (ack: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
    const timeoutMs = this.#host.timing.requestTimeoutMs;
    if (!this.#open) {
      if (!wait || this.#stopped) throw new TickwireError("not_connected", "not connected");
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          wake: () => (this.#waiters.delete(waiter), clearTimeout(timer), resolve()),
          fail: (error: TickwireError) => (this.#waiters.delete(waiter), clearTimeout(timer), reject(error)),
        };
        const timer = setTimeout(() => waiter.fail(new TickwireError("not_connected", `not connected within ${timeoutMs} ms`)), timeoutMs);
        this.#waiters.add(waiter);
      });
    }
    const timedOut = wait
      ? () => void this.#request({ op: "ping" }, false).catch(() => {})
      : () => this.#drop(4000, "a request timed out: the path is dead", true);
    // An answered request shows the connection works: the backoff starts over. Not a subscribe's
    // ack (a server that acks, then cannot replay, would be hit at the first delay forever).
    const acked = op.op === "subscribe" ? onAck : (ack: Record<string, unknown>) => (this.#backoff.reset(), onAck?.(ack));
    const { ref, answer } = this.#requests.open(timeoutMs, timedOut, acked);
    this.#send({ ...op, ref });
    return answer;
  }

  #send(op: Record<string, unknown>): void {
    if (this.#open && this.#ws) this.#ws.send(JSON.stringify(op));
  }

  #scheduleRefresh(): void {
    const exp = this.#host.tokens.expiresAt;
    if (exp === undefined || !this.#host.tokens.renewable) return;
    const now = Date.now();
    this.#later(Math.max(0, exp - now - refreshLead(exp, now)), () => void this.#refresh());
  }

  async #refresh(): Promise<void> {
    const ws = this.#ws;
    try {
      // No newer token: nothing to refresh with; at exp the server closes and we reconnect.
      // Another socket since: it runs its own refresh.
      if (!(await this.#host.tokens.renew()) || !this.#open || this.#ws !== ws) return;
      const token = await this.#host.tokens.current();
      await this.#request({ op: "refresh", token }, false);
      this.#scheduleRefresh();
    } catch {
      // Refused or unanswered: try again while the old token lasts; at its exp the server
      // closes with 4401 and the reconnect fetches a new token.
      const exp = this.#host.tokens.expiresAt;
      if (this.#open && this.#ws === ws && exp !== undefined && exp - Date.now() > 2000)
        this.#later(Math.min(5000, (exp - Date.now()) / 2), () => void this.#refresh());
    }
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  #every(ms: number, run: () => void): void {
    this.#timers.add(setInterval(run, ms) as unknown as ReturnType<typeof setTimeout>);
  }

  /** Abandons the socket at once (no waiting for a close handshake a dead path never delivers). */
  #drop(code: number, reason: string, retry: boolean): void {
    const ws = this.#ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close(code === 1000 ? 1000 : 4000, reason);
      } catch {}
    }
    this.#closed(code, reason, retry);
  }

  #dropped(ws: WebSocketLike, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    const retry = !AUTH_CLOSES.has(code) || this.#host.tokens.renewable;
    this.#closed(code, reason, retry);
  }

  #closed(code: number, reason: string, retry: boolean): void {
    this.#ws = undefined;
    this.#open = false;
    // A new socket starts with no subscription on the server.
    this.#confirmed.clear();
    this.#leaving.clear();
    for (const timer of this.#timers) clearTimeout(timer), clearInterval(timer);
    this.#timers.clear();
    this.#requests.failAll(reason || `close ${code}`);
    this.#requests = new Requests();
    const again = retry && !this.#stopped;
    if (this.#openedAt !== undefined && Date.now() - this.#openedAt >= this.#backoff.maxMs) this.#backoff.reset();
    this.#openedAt = undefined;
    const retryInMs = again ? this.#backoff.next() : undefined;
    this.#host.setState("disconnected", { code, reason, willRetry: again, ...(retryInMs === undefined ? {} : { retryInMs }) });
    if (!again) {
      this.#stopped = true;
      for (const waiter of [...this.#waiters]) waiter.fail(new TickwireError("not_connected", reason || `closed ${code}; not reconnecting`));
      return;
    }
    // An expired or refused token: the next attempt asks getToken for a new one.
    if (AUTH_CLOSES.has(code)) this.#needFreshToken = true;
    this.#retry = setTimeout(() => void this.#connect(), retryInMs);
  }
}
