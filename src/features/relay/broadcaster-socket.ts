/**
 * `/ws/broadcast` (alias `/ws/broadcaster`): receives every manager message verbatim, in log
 * order, from every instance. Live delivery is one native `publish` on {@link RELAY_RAW_CHANNEL}
 * per message (Bun fans it out); `?since=<seq>` first replays the retained `relay` history after
 * that seq through the common subscribe path, whose encode hook sends the bare message, and which
 * hands over to the raw channel with no gap and no duplicate.
 *
 * Broadcasters only listen: frames they send are ignored.
 * @module
 */
import type { AppContext } from "../../app/context.ts";
import { CloseCode, closeSocket, type SocketBehavior } from "../../transports/ws/socket.ts";
import { messageOfFrame, RELAY_RAW_CHANNEL, RELAY_TOPIC } from "./message.ts";

export function broadcasterSocket(ctx: AppContext): SocketBehavior {
  return {
    open(ws) {
      ws.data.subscriptions?.add(RELAY_TOPIC, {
        since: ws.data.since,
        channel: RELAY_RAW_CHANNEL,
        // Frames are parsed only here, during a replay; live delivery never parses.
        encode: messageOfFrame,
        onReplayFailed(err) {
          ctx.log.warn({ err: String(err), socket: ws.data.id }, "relay replay failed");
          // Going live would hide a gap from a client that asked for none: let it retry.
          closeSocket(ws, CloseCode.internal, "could not read relay history; reconnect with since");
        },
      });
    },
  };
}
