/**
 * What `/openapi.json` says of presence.
 * @module
 */
import { Type } from "@sinclair/typebox";
import { type ApiDocs, error, json, ref } from "../../http/api-docs.ts";

export const PresenceSnapshotSchema = Type.Object(
  {
    topic: Type.String(),
    count: Type.Integer({ description: "subscribers of the topic now, on every instance (exact)" }),
    members: Type.Array(
      Type.Object({
        client: Type.String({ description: "the connection, unique in the cluster" }),
        user: Type.Optional(Type.String({ description: "the token's sub (absent when auth is off)" })),
      }),
      { description: "at most PRESENCE_LIST_MAX of them" },
    ),
    truncated: Type.Boolean({ description: "true when count is larger than the members listed" }),
  },
  { description: "who is subscribed to a topic" },
);

export const presenceDocs: ApiDocs = {
  schemas: { PresenceSnapshot: PresenceSnapshotSchema },
  operations: {
    "GET /presence/:topic": {
      summary: "Who is subscribed to a topic (WebSocket and SSE, every instance)",
      tag: "presence",
      permission: "subscribe on the topic",
      description:
        "Redis mode: entries live PRESENCE_TTL_MS unless their instance refreshes them, so a killed instance's subscribers are gone within it. Join and leave frames: subscribe to presence:<topic> (topics matching PRESENCE_EVENTS).",
      responses: {
        "200": json("the topic's presence", ref("PresenceSnapshot")),
        "400": error("not a topic name"),
        "401": error("missing or bad token"),
        "403": error("no subscribe permission on the topic"),
        "503": error("Redis is unreachable"),
      },
    },
  },
};
