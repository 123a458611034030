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
        "Each event is `id: <seq>` + `data: <frame JSON>`; `retry: 3000`; `: ping` every 15 s. Resumes after `Last-Event-ID` (header) or `?lastEventId=`.",
      permission: "subscribe on every topic asked for",
      queryParams: [
        { name: "topics", description: "comma-separated topics (1..64), default `chat`", schema: { type: "string", default: "chat" } },
        { name: "lastEventId", description: "resume after this seq (the `Last-Event-ID` header wins)", schema: Seq },
        { name: "client_id", description: "free-form client id, for logs", schema: { type: "string" } },
        { name: "token", description: "JWT, for EventSource which cannot set headers", schema: { type: "string" } },
      ],
      responses: {
        "200": { description: "event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
        "400": error("bad topic or Last-Event-ID"),
      },
    },
  },
};
