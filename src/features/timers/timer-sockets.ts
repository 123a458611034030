/**
 * The seed's timer WebSockets.
 * - `/ws/customer/:sessionId`: subscribed to `session:<sessionId>`, receives that session's
 *   timer frames; sends nothing.
 * - `/ws/gamemaster/:sessionId`: subscribed to `timers` (every timer), and sends commands
 *   `{"type":"TIMER_CREATE|PAUSE|RESUME|STOP|MODIFY","payload",...,"ref"?}`, each answered
 *   `{"op":"ack","ref"?,"timer"}` or `{"op":"error","code","message"}`.
 * Both honour `?since=<seq>` (replay, then live, no gap, no duplicate).
 * @module
 */
import type { AppContext } from "../../app/context.ts";
import type { RouteMethods } from "../../app/feature.ts";
import { canPublish } from "../../auth/access.ts";
import { Validator } from "../../http/body.ts";
import { HttpError, httpErrorOf } from "../../http/errors.ts";
import { sinceParam } from "../../http/params.ts";
import { parseClientFrame, rejectMalformed } from "../../transports/ws/client-frames.ts";
import { type Socket, type SocketBehavior, sendError, sendJson, upgrade } from "../../transports/ws/socket.ts";
import { subscribeSocket } from "../../transports/ws/unified.ts";
import { GameMasterCommands, type GameMasterCommandType } from "./timer-schemas.ts";
import { TIMERS_TOPIC, type TimerService } from "./timer-service.ts";
import type { TimerView } from "./timer-state.ts";

export const CUSTOMER_SOCKET = "timer-customer";
export const GAMEMASTER_SOCKET = "timer-gamemaster";

const commandChecks = Object.fromEntries(Object.entries(GameMasterCommands).map(([type, schema]) => [type, new Validator(schema)])) as {
  [K in GameMasterCommandType]: Validator<(typeof GameMasterCommands)[K]>;
};

export function sessionTopic(sessionId: string): string {
  return `session:${sessionId}`;
}

export function timerSocketRoutes(ctx: AppContext): Record<string, RouteMethods> {
  return {
    "/ws/customer/:sessionId": {
      GET: async (req, server) => {
        // Bun has already percent-decoded route params; decoding again breaks ids containing "%".
        const sessionId = (req.params as Record<string, string>).sessionId ?? "";
        const since = sinceParam(req);
        if (sessionId.length < 1 || sessionId.length > 128) throw new HttpError(400, "bad_request", "sessionId: expected 1..128 characters", "sessionId");
        const principal = await ctx.auth.requireSubscribe(req, sessionTopic(sessionId));
        return upgrade(req, server, CUSTOMER_SOCKET, { params: { sessionId }, since, principal });
      },
    },
    "/ws/gamemaster/:sessionId": {
      GET: async (req, server) => {
        const sessionId = (req.params as Record<string, string>).sessionId ?? "";
        const since = sinceParam(req);
        const principal = await ctx.auth.requireSubscribe(req, TIMERS_TOPIC);
        return upgrade(req, server, GAMEMASTER_SOCKET, { params: { sessionId }, since, principal });
      },
    },
  };
}

export function timerSockets(ctx: AppContext, timers: TimerService): Record<string, SocketBehavior> {
  const run = async (ws: Socket, frame: Record<string, unknown>): Promise<void> => {
    const type = frame.type;
    const ref = typeof frame.ref === "string" || typeof frame.ref === "number" ? frame.ref : undefined;
    const now = ctx.clock.now();
    if (typeof type !== "string" || !(type in commandChecks)) {
      return rejectMalformed(ws, now, "unknown_type", `type: expected one of ${Object.keys(commandChecks).join(", ")}`, ref);
    }
    const problem = commandChecks[type as GameMasterCommandType].problem(frame, "frame");
    if (problem) return rejectMalformed(ws, now, "bad_frame", problem.message, ref);
    if (!canPublish(ws.data.principal, TIMERS_TOPIC)) return sendError(ws, "forbidden", `type: not allowed to change timers`, ref);
    const payload = frame.payload as { id: number; sessionId: string; maxTime: number };
    try {
      let timer: TimerView;
      switch (type as GameMasterCommandType) {
        case "TIMER_CREATE":
          timer = await timers.create(payload.sessionId, payload.maxTime);
          break;
        case "TIMER_PAUSE":
          timer = await timers.pause(payload.id);
          break;
        case "TIMER_RESUME":
          timer = await timers.resume(payload.id);
          break;
        case "TIMER_MODIFY":
          timer = await timers.modify(payload.id, payload.maxTime);
          break;
        case "TIMER_STOP":
          timer = await timers.stop(payload.id);
          break;
      }
      sendJson(ws, { op: "ack", ...(ref !== undefined ? { ref } : {}), timer });
    } catch (caught) {
      const error = httpErrorOf(caught);
      if (error.code !== "internal") return sendError(ws, error.code, error.message, ref);
      ctx.log.error({ err: caught, type }, "timers: game master command failed");
      sendError(ws, "internal", "command failed", ref);
    }
  };

  return {
    [CUSTOMER_SOCKET]: {
      open(ws) {
        subscribeSocket(ws, sessionTopic(ws.data.params.sessionId!), ws.data.since);
      },
      message(ws) {
        rejectMalformed(ws, ctx.clock.now(), "read_only", "frame: the customer socket only receives; send commands on /ws/gamemaster");
      },
    },
    [GAMEMASTER_SOCKET]: {
      open(ws) {
        subscribeSocket(ws, TIMERS_TOPIC, ws.data.since);
      },
      message(ws, message) {
        const parsed = parseClientFrame(message);
        if ("error" in parsed) return rejectMalformed(ws, ctx.clock.now(), "bad_frame", parsed.error);
        run(ws, parsed.value).catch((error: unknown) => ctx.log.error({ err: error }, "timers: game master frame failed"));
      },
    },
  };
}
