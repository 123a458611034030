/**
 * What `/openapi.json` says of `/events`.
 * @module
 */
import { type ApiDocs, error, Seq } from "../../http/api-docs.ts";

export const sseDocs: ApiDocs = {
  operations: {
    "GET /events": {
      summary: "Server-Sent Events on one or more topics",
      tag: "streams",
      description:
        "Each event is `id: <seq>` + `data: <frame JSON>` (a `cron` tick on a stream that also follows a durable topic: `id: <the stream's newest durable seq>.<k>`); `retry: 3000`; `: ping` every 15 s. Resumes after `Last-Event-ID` (header) or `?lastEventId=`. At the token's `exp` the stream gets `event: token_expired` and ends (reconnect with a new token and `Last-Event-ID`). With `?position=1` and no resume offset, each durable topic first gets `event: position` (`{op:position,topic,seq,epoch}`): where the stream starts, to resume from before any event arrived.",
      permission: "subscribe on every topic asked for",
      queryParams: [
        {
          name: "topics",
          description: "comma-separated topics (1..MAX_TOPICS_PER_CONNECTION, default 128), default `chat`",
          schema: { type: "string", default: "chat" },
        },
        { name: "lastEventId", description: "resume after this seq (the `Last-Event-ID` header wins)", schema: Seq },
        { name: "client_id", description: "free-form client id, for logs", schema: { type: "string" } },
        {
          name: "position",
          description: "1: without a resume offset, send `event: position` (where the stream starts) first",
          schema: { type: "string", enum: ["1"] },
        },
        { name: "token", description: "JWT, for EventSource which cannot set headers", schema: { type: "string" } },
      ],
      responses: {
        "200": { description: "event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
        "400": error("bad topic or Last-Event-ID"),
        "429": error("limit_exceeded: more topics than MAX_TOPICS_PER_CONNECTION, or the address holds MAX_CONNECTIONS_PER_ADDRESS connections (Retry-After)"),
      },
    },
  },
};
