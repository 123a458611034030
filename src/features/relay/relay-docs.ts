/**
 * What `/openapi.json` says of the relay routes.
 * @module
 */
import { type ApiDocs, sinceQuery, tokenQuery, websocket } from "../../http/api-docs.ts";

export const relayDocs: ApiDocs = {
  operations: {
    "GET /ws/manager": websocket("relay manager: each text frame is appended to `relay`, answered `{op:ack,seq}`", {
      tag: "relay",
      permission: "publish on relay",
      description:
        "One reply per text frame, in frame order: {op:ack,seq} once stored, or {op:error,code,message}. A frame still unanswered when the socket closes (either side) has an unknown outcome: it may be stored. Watch a broadcaster, or retry (a retry can duplicate it).",
      queryParams: [tokenQuery],
    }),
    "GET /ws/broadcast": websocket("relay broadcaster: every manager message verbatim, in log order", {
      tag: "relay",
      permission: "subscribe on relay",
      queryParams: [sinceQuery, tokenQuery],
    }),
    "GET /ws/broadcaster": websocket("alias of /ws/broadcast", {
      tag: "relay",
      permission: "subscribe on relay",
      queryParams: [sinceQuery, tokenQuery],
    }),
  },
};
