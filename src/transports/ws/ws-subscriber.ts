/**
 * What the common subscribe path sees of a WebSocket: replayed history is written straight to
 * the socket (refused once it buffers more than `limit` bytes, so the replay overflows and the
 * client resumes later), live delivery is native pub/sub (`ws.subscribe`).
 * @module
 */
import { ReplayRefusedError } from "../../core/replay-limits.ts";
import type { Subscriber } from "../../core/subscriptions.ts";
import type { Logger } from "../../log.ts";
import { CloseCode, closeSocket, type Socket, sendError, sendFrame, sendJson } from "./socket.ts";

/**
 * @param beforeLive runs before the socket goes live on a channel and before each direct write:
 * the transport publishes the frames it holds, so that nothing delivered earlier comes later.
 */
export function wsSubscriber(ws: Socket, limit: number, log: Logger, beforeLive: () => void = () => {}): Subscriber {
  return {
    get closed() {
      return ws.data.closed;
    },
    write(_topic, frame) {
      if (ws.data.closed) return false;
      beforeLive(); // frames the write window holds were delivered first: they go first
      if (ws.data.closed || ws.getBufferedAmount() > limit) return false;
      return sendFrame(ws, frame);
    },
    live(channel) {
      if (ws.data.closed) return;
      beforeLive();
      ws.subscribe(channel);
    },
    unlive(channel) {
      if (!ws.data.closed) ws.unsubscribe(channel);
    },
    notRecovered(topic) {
      sendJson(ws, { op: "recovered", topic, recovered: false });
    },
    overflowed() {
      closeSocket(ws, CloseCode.overflow, "could not keep up; reconnect with since");
    },
    replayFailed(topic, error) {
      if (error instanceof ReplayRefusedError) return sendJson(ws, { op: "error", code: error.code, topic, message: `topic: ${error.message}` });
      log.warn({ err: String(error), topic, socket: ws.data.id }, "replay failed");
      sendError(ws, "replay_failed", `could not read history of ${topic}; retry`);
    },
  };
}
