/**
 * A game master's commands on `/ws/gamemaster/:sessionId`:
 * `{"type":"TIMER_CREATE|PAUSE|RESUME|STOP|MODIFY","payload",...,"ref"?}`, each validated against
 * its schema and answered `{"op":"ack","ref"?,"timer"}` or `{"op":"error","code","message"}`.
 * @module
 */
import type { AppContext } from "../../app/context.ts";
import { canPublish } from "../../auth/access.ts";
import { Validator } from "../../http/body.ts";
import { httpErrorOf } from "../../http/errors.ts";
import { rejectMalformed } from "../../transports/ws/client-frames.ts";
import { type Socket, sendError, sendJson } from "../../transports/ws/socket.ts";
import { OUTCOME_UNKNOWN_ADVICE, SOCKET_OUTCOME_ADVICE } from "./store-guard.ts";
import { GameMasterCommands, type GameMasterCommandType } from "./timer-schemas.ts";
import { TIMERS_TOPIC, type TimerService } from "./timer-service.ts";
import type { TimerView } from "./timer-state.ts";

const commandChecks = Object.fromEntries(Object.entries(GameMasterCommands).map(([type, schema]) => [type, new Validator(schema)])) as {
  [K in GameMasterCommandType]: Validator<(typeof GameMasterCommands)[K]>;
};

/** Runs one game-master command frame. */
export async function runGameMasterCommand(ctx: AppContext, timers: TimerService, ws: Socket, frame: Record<string, unknown>): Promise<void> {
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
    if (error.code === "outcome_unknown") return sendError(ws, error.code, error.message.replace(OUTCOME_UNKNOWN_ADVICE, SOCKET_OUTCOME_ADVICE), ref);
    if (error.code !== "internal") return sendError(ws, error.code, error.message, ref);
    ctx.log.error({ err: caught, type }, "timers: game master command failed");
    sendError(ws, "internal", "command failed", ref);
  }
}
