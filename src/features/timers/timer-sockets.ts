/**
 * The seed's timer WebSockets.
 * - `/ws/customer/:sessionId`: subscribed to `session:<sessionId>`, receives that session's
 *   timer frames; sends nothing.
 * - `/ws/gamemaster/:sessionId`: subscribed to `timers` (every timer), and sends commands
 *   `{"type":"TIMER_CREATE|PAUSE|RESUME|STOP|MODIFY","payload",...,"ref"?}`, each answered
 *   `{"op":"ack","ref"?,"timer"}` or `{"op":"error","code","message"}`.
 * Without `?since=` both first send the current state of their timers, one `TIMER_UPDATE` frame
 * each (`timer-snapshot.ts`, paced by the socket's drain and a budget per event-loop turn:
 * `snapshot-sender.ts`), then live frames; with `?since=<seq>` they replay instead (the
 * entries after it, then live). Either way: no gap, no duplicate.
 * @module
 */
import type { AppContext } from "../../app/context.ts";
import type { RouteMethods } from "../../app/feature.ts";
import { sinceParam } from "../../http/params.ts";
import { admitPublish, PUBLISH_RATE_MESSAGE, parseClientFrame, rejectMalformed } from "../../transports/ws/client-frames.ts";
import { type Socket, type SocketBehavior, sendError, upgrade } from "../../transports/ws/socket.ts";
import { subscribeSocket } from "../../transports/ws/unified.ts";
import { runGameMasterCommand } from "./game-master-commands.ts";
import { SnapshotSender } from "./snapshot-sender.ts";
import type { TimerMap } from "./timer-map.ts";
import { parseSessionId } from "./timer-schemas.ts";
import { TIMERS_TOPIC, type TimerService } from "./timer-service.ts";
import type { DeliveredTimers } from "./timer-snapshot.ts";

export const CUSTOMER_SOCKET = "timer-customer";
export const GAMEMASTER_SOCKET = "timer-gamemaster";

export function sessionTopic(sessionId: string): string {
  return `session:${sessionId}`;
}

export function timerSocketRoutes(ctx: AppContext): Record<string, RouteMethods> {
  return {
    "/ws/customer/:sessionId": {
      GET: async (req, server) => {
        // Bun has already percent-decoded route params (`/ws/customer/a%2Db` is session `a-b`).
        const sessionId = parseSessionId((req.params as Record<string, string>).sessionId);
        const since = sinceParam(req);
        const topic = sessionTopic(sessionId);
        const principal = await ctx.auth.requireSubscribe(req, topic);
        return upgrade(req, server, CUSTOMER_SOCKET, { params: { sessionId }, since, principal, requireSubscribe: topic });
      },
    },
    "/ws/gamemaster/:sessionId": {
      GET: async (req, server) => {
        // The path names a session only for the seed's URL shape (a game master sees every
        // timer), but it obeys the same rule as every other session id.
        const sessionId = parseSessionId((req.params as Record<string, string>).sessionId);
        const since = sinceParam(req);
        const principal = await ctx.auth.requireSubscribe(req, TIMERS_TOPIC);
        return upgrade(req, server, GAMEMASTER_SOCKET, { params: { sessionId }, since, principal, requireSubscribe: TIMERS_TOPIC });
      },
    },
  };
}

/** What the sockets' snapshots are built from: the service's map and the delivered states. */
export interface SnapshotSource {
  timers: TimerMap;
  delivered: DeliveredTimers;
}

export function timerSockets(ctx: AppContext, timers: TimerService, snapshot: SnapshotSource): Record<string, SocketBehavior> {
  /**
   * Subscribes `ws` to `topic`; without `since`, first sends the snapshot of its timers (of
   * `sessionId`, or all). Both in one synchronous step: no entry is delivered in between.
   */
  const sender = new SnapshotSender(ctx.hub, snapshot.timers, ctx.clock, ctx.config.backpressureLimit);
  const watch = (ws: Socket, topic: string, sessionId?: string) => {
    if (ws.data.since !== undefined) return subscribeSocket(ws, topic, ws.data.since);
    // A snapshot that had to wait goes live from its position (`snapshot-sender.ts`): the server's
    // own pacing, not a client's resume, so it takes nothing from the replay allowance.
    sender.send(ws, topic, snapshot.delivered.states(sessionId), (since) => subscribeSocket(ws, topic, since, since !== undefined));
  };
  const drain = (ws: Socket) => sender.drained(ws);
  return {
    [CUSTOMER_SOCKET]: {
      drain,
      open(ws) {
        const sessionId = ws.data.params.sessionId!;
        watch(ws, sessionTopic(sessionId), sessionId);
      },
      message(ws) {
        rejectMalformed(ws, ctx.clock.now(), "read_only", "frame: the customer socket only receives; send commands on /ws/gamemaster");
      },
    },
    [GAMEMASTER_SOCKET]: {
      drain,
      open(ws) {
        watch(ws, TIMERS_TOPIC);
      },
      message(ws, message) {
        const now = ctx.clock.now();
        const parsed = parseClientFrame(message);
        if ("error" in parsed) return rejectMalformed(ws, now, "bad_frame", parsed.error);
        // A command is a publish: past WS_PUBLISHES_PER_SECOND each one is answered rate_limited.
        const perSecond = ctx.config.wsPublishesPerSecond;
        if (!admitPublish(ws, now, perSecond)) {
          ctx.metrics.limitRefusals.inc({ limit: "ws_publishes" });
          const ref = parsed.value.ref;
          return sendError(ws, "rate_limited", PUBLISH_RATE_MESSAGE(perSecond), typeof ref === "string" || typeof ref === "number" ? ref : undefined);
        }
        runGameMasterCommand(ctx, timers, ws, parsed.value).catch((error: unknown) => ctx.log.error({ err: error }, "timers: game master frame failed"));
      },
    },
  };
}
