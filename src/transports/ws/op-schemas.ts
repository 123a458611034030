/**
 * The in-band ops of `/ws`, as TypeBox schemas: they validate client frames and document them
 * in `/openapi.json`.
 * @module
 */
import { Type } from "@sinclair/typebox";

const Topic = Type.String({ pattern: "^[A-Za-z0-9:_-]{1,128}$", description: "topic name" });
const Ref = Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Number()], { description: "echoed in the reply" }));

export const SubscribeOp = Type.Object({
  op: Type.Literal("subscribe"),
  topic: Topic,
  since: Type.Optional(
    Type.String({ pattern: "^\\d{1,16}(-\\d{1,16}(\\.\\d{1,20})?)?$", description: "replay retained events after this seq (any seq received on the topic)" }),
  ),
  ref: Ref,
});
export const UnsubscribeOp = Type.Object({ op: Type.Literal("unsubscribe"), topic: Topic, ref: Ref });
export const PublishOp = Type.Object({ op: Type.Literal("publish"), topic: Topic, data: Type.Unknown(), ref: Ref });
export const PingOp = Type.Object({ op: Type.Literal("ping"), ref: Ref });
export const PresenceOp = Type.Object(
  { op: Type.Literal("presence"), topic: Topic, ref: Ref },
  { description: "who is subscribed to the topic (needs subscribe on it); answered ack with presence {topic,count,members,truncated}" },
);
export const RefreshOp = Type.Object(
  { op: Type.Literal("refresh"), token: Type.String({ maxLength: 8192, description: "a newer JWT for the same sub" }), ref: Ref },
  { description: "replaces the connection's token before it expires (every WebSocket endpoint); answered ack with the new exp" },
);
