/**
 * The chat seed's shapes at the boundary, as TypeBox schemas (they also feed `/openapi.json`).
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";

/** `POST /messages` and the WS `publish` op on `chat`. */
export const PostMessageBody = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 4096, description: "message text" }),
    user: Type.Optional(Type.String({ maxLength: 64, description: 'sender name; default "anonymous"' })),
  },
  { additionalProperties: true },
);
export type PostMessageBody = Static<typeof PostMessageBody>;

/** `POST /notify`: the message service's internal call in the seed. */
export const NotifyBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, description: "message id" }),
  content: Type.String({ minLength: 1, maxLength: 4096 }),
  user: Type.Optional(Type.String({ maxLength: 64 })),
  timestamp: Type.String({ minLength: 1, maxLength: 64, description: "ISO-8601 time the message was sent" }),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'event type; the seed sends "message"' })),
});
export type NotifyBody = Static<typeof NotifyBody>;

/** The body stored in the `chat` log and spread into every chat frame. */
export interface ChatBody {
  [key: string]: unknown;
  type: string;
  id: string;
  content: string;
  user: string;
  timestamp: string;
}

/** `201` answer of `POST /messages` (the seed's fields plus the log offset). */
export const SentMessage = Type.Object({
  id: Type.String(),
  content: Type.String(),
  user: Type.String(),
  timestamp: Type.String({ description: "ISO-8601" }),
  status: Type.Literal("sent"),
  seq: Type.String({ description: "offset of the message in the chat log" }),
});
