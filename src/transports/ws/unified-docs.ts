/**
 * What `/openapi.json` says of `/ws` and its in-band ops.
 * @module
 */
import { type ApiDocs, sinceQuery, tokenQuery, websocket } from "../../http/api-docs.ts";
import { PingOp, PresenceOp, PublishOp, RefreshOp, SubscribeOp, UnsubscribeOp } from "./op-schemas.ts";

export const unifiedDocs: ApiDocs = {
  schemas: { SubscribeOp, UnsubscribeOp, PublishOp, PingOp, RefreshOp, PresenceOp },
  operations: {
    "GET /ws": websocket("the cron seed endpoint and the unified endpoint", {
      tag: "streams",
      description:
        "No `?topics=`: `cron` frames every tick (`?topics=` empty: nothing until a subscribe op). In-band ops, each answered `ack` or `error`; a subscribe without `since` is acked with the position it starts at (`seq`, `epoch`) to resume from; with `since` on a topic already subscribed, it replays after `since` again once acked. The socket is closed with 4401 at its token's `exp` unless refreshed.",
      authenticated: true,
      queryParams: [
        { name: "topics", description: "comma-separated topics to subscribe at connect (default `cron`)", schema: { type: "string" } },
        sinceQuery,
        tokenQuery,
      ],
      messages: ["SubscribeOp", "UnsubscribeOp", "PublishOp", "PingOp", "RefreshOp", "PresenceOp"],
    }),
  },
};
