/**
 * Live timer state for a panel: on every (re)connect it loads the list over REST, buffering the
 * socket's frames meanwhile, then applies the buffered and live frames on top, so a panel never
 * misses a change made while it was loading or disconnected. Frames are the seed's
 * `{type, payload: timer}`; `TIMER_STOP` removes the timer.
 * @module
 */
import { api, wsUrl } from "./auth.js";
import { ReconnectingSocket } from "./reconnecting-socket.js";

export class TimerFeed {
  /**
   * @param {{socketPath: () => string, listPath: () => string,
   *          onChange: (timers: object[]) => void,
   *          onState: (state: string, detail?: string) => void}} opts
   */
  constructor(opts) {
    this.opts = opts;
    /** id → timer */
    this.timers = new Map();
    this.buffer = undefined;
    this.socket = new ReconnectingSocket(() => wsUrl(opts.socketPath()), {
      onOpen: () => this.#reload(),
      onState: (state, detail) => opts.onState(state, detail),
      onMessage: (text) => this.#frame(text),
    });
  }

  /** Timers sorted by id. */
  list() {
    return [...this.timers.values()].sort((a, b) => a.id - b.id);
  }

  /** Applies a timer returned by a REST call at once, ahead of its frame. */
  upsert(timer) {
    if (timer && typeof timer.id === "number") this.timers.set(timer.id, timer);
    this.opts.onChange(this.list());
  }

  remove(id) {
    this.timers.delete(id);
    this.opts.onChange(this.list());
  }

  /** Reconnects (new token or new session). */
  restart() {
    this.timers.clear();
    this.opts.onChange([]);
    this.socket.restart();
  }

  async #reload() {
    const ws = this.socket.ws;
    this.buffer = [];
    let listed;
    try {
      listed = await api("GET", this.opts.listPath());
    } catch (error) {
      this.opts.onState("closed", error.message);
      listed = undefined;
    }
    if (ws !== this.socket.ws) return; // reconnected meanwhile; that attempt reloads
    const buffered = this.buffer;
    this.buffer = undefined;
    if (listed) {
      const timers = Array.isArray(listed) ? listed : (listed.timers ?? []);
      this.timers = new Map(timers.map((t) => [t.id, t]));
    }
    for (const frame of buffered) this.#apply(frame);
    this.opts.onChange(this.list());
  }

  #frame(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame?.type !== "string" || !frame.payload) return;
    if (this.buffer) {
      this.buffer.push(frame);
      return;
    }
    this.#apply(frame);
    this.opts.onChange(this.list());
  }

  #apply(frame) {
    const timer = frame.payload;
    const id = Number(timer.id);
    if (!Number.isFinite(id)) return;
    if (frame.type === "TIMER_STOP") this.timers.delete(id);
    else this.timers.set(id, { ...this.timers.get(id), ...timer });
  }
}

/** Seconds left on `timer`, never below zero. */
export function remaining(timer) {
  return Math.max(0, (timer.maxTime ?? 0) - (timer.currentTime ?? 0));
}

/** `running`, `paused` or `finished`, from `status` or, for older payloads, the fields. */
export function statusOf(timer) {
  if (timer.status) return timer.status;
  if (remaining(timer) === 0) return "finished";
  return timer.isPaused ? "paused" : "running";
}
