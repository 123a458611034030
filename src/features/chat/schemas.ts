/**
 * The chat seed's shapes at the boundary, as TypeBox schemas (they also feed `/openapi.json`).
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import { ISO_TIMESTAMP_PATTERN } from "./timestamp.ts";

/** Message text: 1..4096 characters (code points, see `char-limits.ts`), at least one not white space. */
const Content = Type.String({ minLength: 1, maxLength: 4096, pattern: "\\S", description: "message text, not only white space" });
const User = Type.String({
  maxLength: 64,
  description: 'sender name when auth is off (default "anonymous", also for an empty or blank one); with auth on the token names the sender',
});

/** `POST /messages` and the WS `publish` op on `chat`. */
export const PostMessageBody = Type.Object({ content: Content, user: Type.Optional(User) }, { additionalProperties: true });
export type PostMessageBody = Static<typeof PostMessageBody>;

/** `POST /notify`: the message service's internal call in the seed. */
export const NotifyBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, description: "message id" }),
  content: Content,
  user: Type.Optional(User),
  timestamp: Type.String({
    maxLength: 64,
    pattern: ISO_TIMESTAMP_PATTERN,
    description: "ISO-8601 time the message was sent, with seconds and a zone (Z or ±hh:mm)",
    examples: ["2024-01-01T12:00:00Z"],
  }),
  type: Type.Optional(Type.Literal("message", { description: 'event type; the seed sends "message"' })),
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
