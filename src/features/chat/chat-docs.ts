/**
 * What `/openapi.json` says of the chat routes.
 * @module
 */
import { Type } from "@sinclair/typebox";
import { type ApiDocs, error, json, ref, Seq } from "../../http/api-docs.ts";
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from "./chat-service.ts";
import { NotifyBody, PostMessageBody } from "./schemas.ts";

// Response-only shapes (nothing validates them on the way in, so they live here).

/** `201` answer of `POST /messages` (the seed's fields plus the log offset). */
const SentMessage = Type.Object({
  id: Type.String({
    pattern: "^\\d{14}\\.\\d{6}$",
    description:
      "the seed's form YYYYMMDDhhmmss.ffffff: the UTC instant of the post to the microsecond; unique, and increasing in the order messages are posted, across instances too (the next free microsecond)",
    examples: ["20240101120000.123456"],
  }),
  content: Type.String(),
  user: Type.String(),
  timestamp: Type.String({ description: "ISO-8601 UTC, to the millisecond: the instant the id names" }),
  status: Type.Literal("sent"),
  seq: Type.String({ description: "offset of the message in the chat log" }),
});
const ChatFrame = Type.Object({
  topic: Type.Literal("chat"),
  seq: Seq,
  ts: Type.Integer({ description: "epoch ms" }),
  type: Type.String(),
  id: Type.String({ description: "the message id: YYYYMMDDhhmmss.ffffff for POST /messages (see SentMessage), as sent for /notify" }),
  content: Type.String(),
  user: Type.String(),
  timestamp: Type.String(),
});
const History = Type.Object({
  messages: Type.Array(ChatFrame, { description: "oldest first" }),
  recovered: Type.Boolean({
    description: "false when messages after `since` may be missing: evicted, or `since` is from another epoch (the history was lost since); reload",
  }),
  epoch: Type.Optional(Type.String({ description: "the history's epoch; frames carry it too" })),
});
const NotifyReply = Type.Object({ status: Type.Literal("accepted"), seq: Seq });

export const chatDocs: ApiDocs = {
  schemas: { PostMessageBody, NotifyBody, SentMessage, NotifyReply, ChatFrame, History },
  operations: {
    "POST /messages": {
      summary: "Post a chat message (stored in the chat log, then delivered on `chat`)",
      description: "With auth on the sender is the token's `name` claim, else its `sub`; a `user` in the body is ignored.",
      tag: "chat",
      permission: "publish on chat",
      body: PostMessageBody,
      responses: {
        "201": json("stored", ref("SentMessage")),
        "400": error("bad body, naming the field"),
        "413": error("body over 64 KiB"),
        "503": error("append queue full or log unavailable; retry after Retry-After"),
      },
    },
    "GET /messages": {
      summary: "Retained chat history",
      tag: "chat",
      permission: "subscribe on chat",
      queryParams: [
        { name: "since", description: "messages after this seq (paging forward); absent: the newest `limit`", schema: Seq },
        {
          name: "limit",
          description: "at most this many",
          schema: { type: "integer", minimum: 1, maximum: MAX_HISTORY_LIMIT, default: DEFAULT_HISTORY_LIMIT },
        },
      ],
      responses: { "200": json("history", ref("History")), "400": error("bad since or limit") },
    },
    "POST /notify": {
      summary: "The seed's internal broadcast: a message built elsewhere, delivered on `chat`",
      description: "With auth on the sender is the token's `name` claim, else its `sub`; a `user` in the body is ignored.",
      tag: "chat",
      permission: "publish on chat",
      body: NotifyBody,
      responses: {
        "202": json("accepted", ref("NotifyReply")),
        "400": error("bad body, naming the field"),
        "503": error("log unavailable; retry"),
      },
    },
  },
};
