/**
 * What `/openapi.json` says of the timer routes.
 * @module
 */
import { type ApiDocs, error, json, ref, sinceQuery, tokenQuery, websocket } from "../../http/api-docs.ts";

const SNAPSHOT =
  "Without `since`, the socket first sends the current state of its timers, one `TIMER_UPDATE` frame each (paused and finished ones too, by id; seq `<position>.<k>`: " +
  "the state as of that log position), then live frames, with no gap and no duplicate. With `since`, it replays the durable frames after it instead, then live. " +
  "Durable frames carry `eventId` and `version` (the timer's version after the change); `ts` is epoch ms.";
const timerSince = {
  ...sinceQuery,
  description: "replay the durable frames after this seq (any seq received, snapshot frames included), then live; no snapshot",
};

import { CreateTimerBody, GameMasterCommands, ListTimersQuery, ModifyTimerBody, SESSION_ID_RULE, StopReply, Timer } from "./timer-schemas.ts";

export const timerDocs: ApiDocs = {
  schemas: {
    Timer,
    CreateTimerBody,
    ModifyTimerBody,
    StopReply,
    ...Object.fromEntries(Object.entries(GameMasterCommands).map(([type, schema]) => [`GameMaster_${type}`, schema])),
  },
  operations: {
    "POST /timer": {
      summary: "Create a timer (running)",
      tag: "timers",
      permission: "publish on timers",
      body: CreateTimerBody,
      responses: { "201": json("created", ref("Timer")), "400": error("bad body, naming the field") },
    },
    "GET /timer/:id": {
      summary: "One timer",
      tag: "timers",
      permission: "subscribe on timer:<id>, session:<sessionId> or timers",
      responses: {
        "200": json("the timer", ref("Timer")),
        "404": error("no such timer, or one the token may not see: the same answer, so ids cannot be enumerated"),
      },
    },
    "GET /timers": {
      summary: "List timers, optionally of one session",
      tag: "timers",
      permission: "subscribe on session:<sessionId> (with ?sessionId=) or timers (without)",
      query: ListTimersQuery,
      responses: { "200": json("timers", { type: "array", items: ref("Timer") }), "400": error(`bad sessionId (${SESSION_ID_RULE})`) },
    },
    "PUT /timer/:id/pause": {
      summary: "Pause (idempotent)",
      tag: "timers",
      permission: "publish on timers",
      responses: { "200": json("the timer", ref("Timer")), "404": error("no such timer") },
    },
    "PUT /timer/:id/resume": {
      summary: "Resume (idempotent)",
      tag: "timers",
      permission: "publish on timers",
      responses: { "200": json("the timer", ref("Timer")), "404": error("no such timer") },
    },
    "PUT /timer/:id/modify": {
      summary: "Change maxTime; below the current time finishes the timer at once",
      tag: "timers",
      permission: "publish on timers",
      body: ModifyTimerBody,
      responses: { "200": json("the timer", ref("Timer")), "400": error("bad body"), "404": error("no such timer") },
    },
    "PUT /timer/:id/stop": {
      summary: "Stop and delete",
      tag: "timers",
      permission: "publish on timers",
      responses: { "200": json("deleted", ref("StopReply")), "404": error("no such timer") },
    },
    "GET /ws/customer/:sessionId": websocket("a customer's view of one session's timers (topic `session:<sessionId>`)", {
      tag: "timers",
      description: SNAPSHOT,
      permission: "subscribe on session:<sessionId>",
      queryParams: [timerSince, tokenQuery],
      responses: { "400": error(`bad sessionId (${SESSION_ID_RULE}) or since`) },
    }),
    "GET /ws/gamemaster/:sessionId": websocket("a game master: every timer event, and timer commands", {
      tag: "timers",
      description: `${SNAPSHOT} A game master's timers are all timers, of every session.`,
      permission: "subscribe on timers (commands: publish on timers, else an error frame `forbidden`)",
      queryParams: [timerSince, tokenQuery],
      responses: { "400": error(`bad sessionId (${SESSION_ID_RULE}) or since`) },
      messages: Object.keys(GameMasterCommands).map((t) => `GameMaster_${t}`),
    }),
  },
};
