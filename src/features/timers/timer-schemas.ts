/**
 * TypeBox schemas at the timers boundary: REST bodies and query, game master WebSocket
 * commands, and the timer as clients see it (for `/openapi.json`).
 * @module
 */
import { Type } from "@sinclair/typebox";
import { Validator } from "../../http/body.ts";
import { badRequest } from "../../http/errors.ts";

/**
 * The one rule for session ids, wherever one enters (`POST /timer`, `GET /timers?sessionId=`,
 * `TIMER_CREATE`, the `/ws/customer/:sessionId` and `/ws/gamemaster/:sessionId` paths): exactly
 * the ids whose `session:<id>` is a topic name (`[A-Za-z0-9:_-]{1,128}`), so every accepted
 * session can be watched on every transport. `:` is left out: it separates a topic's family
 * from its name (`session:<id>`, `timer:<id>`), so an id stays one segment.
 */
export const SESSION_ID_MAX_LENGTH = 128 - "session:".length;
export const SESSION_ID_RULE = `1..${SESSION_ID_MAX_LENGTH} of A-Z a-z 0-9 _ -`;
export const SessionId = Type.String({
  minLength: 1,
  maxLength: SESSION_ID_MAX_LENGTH,
  pattern: "^[A-Za-z0-9_-]+$",
  description: `the game session the timer belongs to: ${SESSION_ID_RULE}`,
});
const sessionIdCheck = new Validator(SessionId);

/** A session id from a path parameter, or a 400 naming `sessionId`. */
export function parseSessionId(raw: string | undefined): string {
  const value = raw ?? "";
  if (sessionIdCheck.problem(value)) throw badRequest(`sessionId: expected ${SESSION_ID_RULE}, got ${JSON.stringify(value.slice(0, 40))}`, "sessionId");
  return value;
}

export const MaxTime = Type.Integer({ minimum: 1, maximum: 604_800, description: "seconds at which the timer finishes (at most 7 days)" });
export const TimerId = Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: "timer id" });

export const CreateTimerBody = Type.Object({ sessionId: SessionId, maxTime: MaxTime });
export const ModifyTimerBody = Type.Object({ maxTime: MaxTime });
export const ListTimersQuery = Type.Object({ sessionId: Type.Optional(SessionId) });

export const Timer = Type.Object({
  id: Type.Integer({ description: "timer id, assigned at creation" }),
  sessionId: Type.String(),
  currentTime: Type.Integer({ description: "whole seconds counted while running (paused time excluded), 0..maxTime; maxTime once finished" }),
  maxTime: Type.Integer({ description: "seconds at which the timer finishes" }),
  isPaused: Type.Boolean({
    description: "true whenever the timer is not counting: paused, and also finished (the seed had no finished state); `status` tells them apart",
  }),
  status: Type.Union([Type.Literal("running"), Type.Literal("paused"), Type.Literal("finished")], {
    description: "running (isPaused false), paused or finished (both isPaused true); a finished timer stays until stopped",
  }),
  createdAt: Type.String({ format: "date-time", description: "ISO-8601 UTC, to the millisecond" }),
  updatedAt: Type.String({ format: "date-time", description: "ISO-8601 UTC, to the millisecond: the last state change (not the ticks)" }),
});

export const StopReply = Type.Object({ message: Type.Literal("Timer stopped and deleted") });

const Ref = Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Number()], { description: "echoed in the reply" }));

/** Game master commands, `{"type", "payload", "ref"?}`, by type. */
export const GameMasterCommands = {
  TIMER_CREATE: Type.Object({ type: Type.Literal("TIMER_CREATE"), payload: CreateTimerBody, ref: Ref }),
  TIMER_PAUSE: Type.Object({ type: Type.Literal("TIMER_PAUSE"), payload: Type.Object({ id: TimerId }), ref: Ref }),
  TIMER_RESUME: Type.Object({ type: Type.Literal("TIMER_RESUME"), payload: Type.Object({ id: TimerId }), ref: Ref }),
  TIMER_STOP: Type.Object({ type: Type.Literal("TIMER_STOP"), payload: Type.Object({ id: TimerId }), ref: Ref }),
  TIMER_MODIFY: Type.Object({ type: Type.Literal("TIMER_MODIFY"), payload: Type.Object({ id: TimerId, maxTime: MaxTime }), ref: Ref }),
};
export type GameMasterCommandType = keyof typeof GameMasterCommands;
