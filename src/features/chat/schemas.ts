/**
 * The chat seed's shapes at the boundary, as TypeBox schemas (they also feed `/openapi.json`).
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import { ISO_TIMESTAMP_PATTERN } from "./timestamp.ts";

/** Characters (Unicode code points, as JSON Schema's `maxLength` counts) a message's `content` may have. */
export const CONTENT_MAX_CHARS = 4096;
/** Characters a message's `user` may have. */
export const USER_MAX_CHARS = 64;

/**
 * The chat bodies, with the character limits as `maxLength` (what `/openapi.json` shows) or
 * without them. TypeBox's `maxLength` check counts UTF-16 units, so 2049 emoji (4098 units) would
 * be refused as over 4096: the bodies checked at the boundary leave the limits out and
 * `chat-input.ts` counts characters. Either way a field is bounded in bytes (4 per character).
 */
function chatBodies(charLimits: boolean) {
  const limit = (max: number) => (charLimits ? { maxLength: max } : {});
  /** Message text: 1..4096 characters, at least one of them not white space. */
  const Content = Type.String({ minLength: 1, ...limit(CONTENT_MAX_CHARS), pattern: "\\S", description: "message text, not only white space" });
  const User = Type.String({
    ...limit(USER_MAX_CHARS),
    description: 'sender name when auth is off (default "anonymous", also for an empty or blank one); with auth on the token names the sender',
  });
  return {
    /** `POST /messages` and the WS `publish` op on `chat`. */
    PostMessageBody: Type.Object({ content: Content, user: Type.Optional(User) }, { additionalProperties: true }),
    /** `POST /notify`: the message service's internal call in the seed. */
    NotifyBody: Type.Object({
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
    }),
  };
}

export const { PostMessageBody, NotifyBody } = chatBodies(true);
export type PostMessageBody = Static<typeof PostMessageBody>;
export type NotifyBody = Static<typeof NotifyBody>;
/** The bodies as checked: without the character limits, which `chat-input.ts` applies. */
export const CheckedBodies = chatBodies(false);

/** The body stored in the `chat` log and spread into every chat frame. */
export interface ChatBody {
  [key: string]: unknown;
  type: string;
  id: string;
  content: string;
  user: string;
  timestamp: string;
}
