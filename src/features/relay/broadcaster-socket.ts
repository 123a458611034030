/**
 * `/ws/broadcast` (alias `/ws/broadcaster`): receives every manager message verbatim, in log
 * order, from every instance. Live delivery is one native `publish` on {@link RELAY_RAW_CHANNEL}
 * per message (Bun fans it out); `?since=<seq>` first replays the retained `relay` history after
 * that seq through the hub, which hands over to the raw channel with no gap and no duplicate.
 *
 * Broadcasters only listen: frames they send are ignored.
 * @module
 */
import type { ReplayTarget } from "../../core/hub.ts";
import type { AppContext } from "../../app/context.ts";
import type { Socket, SocketBehavior } from "../../app/feature.ts";
import { CloseCode, closeSocket, sendJson } from "../../transports/ws/socket.ts";
import { messageOfFrame, RELAY_RAW_CHANNEL, RELAY_TOPIC } from "./message.ts";

/**
 * A replay target for a broadcaster: the hub hands it wrapped `relay` frames (history, then live
 * frames held during the read), and it sends the bare message; `goLive` subscribes the socket to
 * the raw channel. Frames are parsed only here, during a replay; live delivery never parses.
 */
export function rawReplayTarget(ws: Socket, limit: number): ReplayTarget {
  return {
    send(frame) {
      if (ws.data.closed || ws.getBufferedAmount() > limit) return false;
      const message = messageOfFrame(frame);
      return message === undefined || ws.send(message) !== 0;
    },
    notRecovered() {
      sendJson(ws, { op: "recovered", topic: RELAY_TOPIC, recovered: false });
    },
    goLive() {
      if (ws.data.closed) return;
      ws.subscribe(RELAY_RAW_CHANNEL);
      ws.data.replays?.delete(RELAY_TOPIC);
    },
    overflowed() {
      closeSocket(ws, CloseCode.overflow, "could not keep up; reconnect with since");
    },
    get closed() {
      return ws.data.closed;
    },
  };
}

export function broadcasterSocket(ctx: AppContext): SocketBehavior {
  return {
    open(ws) {
      ws.data.topics.add(RELAY_TOPIC);
      const since = ws.data.params.since;
      if (since === undefined) return void ws.subscribe(RELAY_RAW_CHANNEL);
      const target = rawReplayTarget(ws, ctx.config.backpressureLimit);
      (ws.data.replays ??= new Map()).set(RELAY_TOPIC, target);
      ctx.hub.replay(RELAY_TOPIC, since, target).catch((err: unknown) => {
        ctx.log.warn({ err: String(err), socket: ws.data.id }, "relay replay failed");
        ws.data.replays?.delete(RELAY_TOPIC);
        // Going live would hide a gap from a client that asked for none: let it retry.
        closeSocket(ws, 1011, "could not read relay history; reconnect with since");
      });
    },
    close(ws) {
      const target = ws.data.replays?.get(RELAY_TOPIC);
      if (target) ctx.hub.cancelReplay(RELAY_TOPIC, target);
      ws.data.replays?.clear();
      ws.data.topics.clear();
    },
  };
}
