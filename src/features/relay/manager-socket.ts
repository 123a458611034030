/**
 * `/ws/manager`: every text frame is one relay message. Each frame gets exactly one reply, and
 * replies go out in the order the frames arrived: `{"op":"ack","seq"}` once the message is
 * durable, or `{"op":"error","code","message"}` when it was not stored. A manager's frames are
 * raw text with no `ref`, so reply order is the only way it can match replies to messages; a
 * token refresh op (`{"op":"refresh"}`, answered by the server) is answered in its turn too.
 * A frame still unanswered when the socket closes, whichever side closes it, has an unknown
 * outcome: its append goes on and it may be stored (a retry can duplicate it); it is never
 * acknowledged and then missing.
 *
 * Binary and oversized frames are malformed traffic: answered with an error and the socket stays
 * open, but more than 10 a second closes it with 1008. `overloaded` and `unavailable` are the
 * server's condition, not the client's fault, and never count towards that limit. Past
 * `WS_PUBLISHES_PER_SECOND` frames a second each one is answered `rate_limited` (not stored);
 * past twice that the socket is closed with 1008.
 * @module
 */
import type { AppContext } from "../../app/context.ts";
import { admitPublish, PUBLISH_RATE_MESSAGE, rejectMalformed } from "../../transports/ws/client-frames.ts";
import { CloseCode, closeSocket, type Socket, type SocketBehavior, type SocketData, sendError, sendJson } from "../../transports/ws/socket.ts";
import type { IngestOutcome, RelayIngest } from "./ingest.ts";
import { relayMessageProblem } from "./message.ts";

export function managerSocket(ctx: AppContext, ingest: RelayIngest): SocketBehavior {
  /** Per socket: the promise of its last reply; the next reply is chained after it. */
  const replies = new WeakMap<SocketData, Promise<void>>();

  /** Runs `reply` after every earlier reply of `ws` (and after `outcome` settles, if given). */
  const inOrder = <T>(ws: Socket, reply: (outcome?: T) => void, outcome?: Promise<T>): void => {
    const previous = replies.get(ws.data);
    if (!previous && !outcome) return reply();
    const ready = previous ? previous.then(() => outcome) : outcome!;
    const next = ready.then(reply).catch((err: unknown) => ctx.log.warn({ err, socket: ws.data.id }, "relay reply failed"));
    replies.set(ws.data, next);
    // Forget the chain once it is idle, so an idle manager holds no promise.
    next.then(() => {
      if (replies.get(ws.data) === next) replies.delete(ws.data);
    });
  };

  const answer = (ws: Socket) => (outcome?: IngestOutcome) => {
    if (!outcome) return;
    if (outcome.ok) sendJson(ws, { op: "ack", seq: outcome.seq });
    else sendError(ws, outcome.code, outcome.message);
  };

  const perSecond = ctx.config.wsPublishesPerSecond;
  return {
    // Every frame is a publish: the publish limit applies, not the generic frame limit.
    frames: "publishes",
    // A refresh op is a frame too: its ack takes its turn, or a manager would take it for the
    // reply to an earlier message.
    replyInOrder(ws, reply) {
      inOrder(ws, (frame) => frame && sendJson(ws, frame), reply);
    },
    message(ws, message) {
      if (!admitPublish(ws, ctx.clock.now(), perSecond)) {
        ctx.metrics.limitRefusals.inc({ limit: "ws_publishes" });
        if (ws.data.publishCount! > 2 * perSecond) return closeSocket(ws, CloseCode.policyViolation, "too many frames");
        return inOrder(ws, () => sendError(ws, "rate_limited", PUBLISH_RATE_MESSAGE(perSecond)));
      }
      if (typeof message !== "string") {
        return inOrder(ws, () => rejectMalformed(ws, ctx.clock.now(), "binary_not_accepted", "frame: binary frames are not relayed; send text"));
      }
      const problem = relayMessageProblem(message);
      if (problem) return inOrder(ws, () => rejectMalformed(ws, ctx.clock.now(), "too_large", problem));
      inOrder(ws, answer(ws), ingest.submit(message));
    },
    close(ws) {
      replies.delete(ws.data);
    },
  };
}
