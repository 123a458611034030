/**
 * A WebSocket that comes back by itself: after a close it reconnects with exponential backoff
 * (0.5 s doubling to 8 s, with jitter so a restarted server is not hit by every tab at once),
 * rebuilding its URL each time so a new token or `since` offset is used.
 * @module
 */

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

export class ReconnectingSocket {
  /**
   * @param {() => string} url builds the URL for each attempt
   * @param {{onMessage?: (data: string) => void, onOpen?: (ws: WebSocket) => void,
   *          onState?: (state: "connecting"|"open"|"closed", detail?: string) => void}} handlers
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = undefined;
    this.delay = MIN_DELAY_MS;
    this.timer = undefined;
    this.stopped = false;
    this.connect();
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.handlers.onState?.("connecting");
    const ws = (this.ws = new WebSocket(this.url()));
    ws.onopen = () => {
      this.delay = MIN_DELAY_MS;
      this.handlers.onState?.("open");
      this.handlers.onOpen?.(ws);
    };
    ws.onmessage = (event) => {
      if (ws === this.ws) this.handlers.onMessage?.(String(event.data));
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      const why = closeReason(event.code, event.reason);
      this.handlers.onState?.("closed", why);
      if (this.stopped) return;
      const wait = this.delay * (0.75 + Math.random() * 0.5);
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
      this.timer = setTimeout(() => this.connect(), wait);
    };
  }

  /** Sends text if open; returns whether it went out. */
  send(text) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    return true;
  }

  get open() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Drops the current connection and connects again at once (e.g. with a new token). */
  restart() {
    const old = this.ws;
    this.ws = undefined;
    old?.close(1000, "restart");
    this.delay = MIN_DELAY_MS;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const old = this.ws;
    this.ws = undefined;
    old?.close(1000, "bye");
    this.handlers.onState?.("closed");
  }
}

/** A human reason for the close codes tickwire uses. */
export function closeReason(code, reason) {
  switch (code) {
    case 4401:
      return "unauthorized: set a token";
    case 4403:
      return "forbidden for this token";
    case 4008:
      return "fell behind; resuming";
    case 1001:
      return "server going away";
    case 1008:
      return reason || "policy violation";
    default:
      return reason || "";
  }
}
