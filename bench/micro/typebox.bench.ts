/**
 * TypeBox compiled checks at the boundaries (schemas compiled once per module, STYLE.md point 4):
 * the chat `POST /messages` body and the unified WS `subscribe` op, valid and invalid, against a
 * hand-written check of the same rules (the fastest a check can be) and TypeBox's uncompiled
 * `Value.Check` (what compiling saves).
 *
 *   bun bench/micro/typebox.bench.ts [--json]
 */
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import { bench, do_not_optimize, group, summary } from "mitata";
import { PostMessageBody } from "../../src/features/chat/schemas.ts";
import { PublishOp, SubscribeOp } from "../../src/transports/ws/op-schemas.ts";
import { runMicro } from "../support/micro.ts";

const postCheck = TypeCompiler.Compile(PostMessageBody);
const subscribeCheck = TypeCompiler.Compile(SubscribeOp);
const post = { content: "hello there, an ordinary chat message", user: "bench" };
const badPost = { content: "", user: 42 };
const subscribe = { op: "subscribe", topic: "session:abc-123", since: "1763896271000-3", ref: 7 };

const handPost = (v: any) =>
  typeof v === "object" &&
  v !== null &&
  typeof v.content === "string" &&
  v.content.length >= 1 &&
  v.content.length <= 4096 &&
  (v.user === undefined || (typeof v.user === "string" && v.user.length <= 64));
const TOPIC = /^[A-Za-z0-9:_-]{1,128}$/;
const SINCE = /^\d{1,16}(-\d{1,16})?$/;
const handSubscribe = (v: any) =>
  typeof v === "object" &&
  v !== null &&
  v.op === "subscribe" &&
  typeof v.topic === "string" &&
  TOPIC.test(v.topic) &&
  (v.since === undefined || (typeof v.since === "string" && SINCE.test(v.since))) &&
  (v.ref === undefined || typeof v.ref === "number" || (typeof v.ref === "string" && v.ref.length <= 128));

summary(() => {
  group("POST /messages body, valid", () => {
    bench("baseline: hand-written check", () => do_not_optimize(handPost(post))).baseline(true);
    bench("TypeBox compiled Check", () => do_not_optimize(postCheck.Check(post)));
    bench("TypeBox Value.Check (uncompiled)", () => do_not_optimize(Value.Check(PostMessageBody, post)));
  });
});

summary(() => {
  group("POST /messages body, invalid (first error, for the 400 naming the field)", () => {
    bench("baseline: hand-written check", () => do_not_optimize(handPost(badPost))).baseline(true);
    bench("TypeBox compiled Check + Errors().First()", () => do_not_optimize(postCheck.Check(badPost) || postCheck.Errors(badPost).First()));
  });
});

summary(() => {
  group("WS subscribe op, valid", () => {
    bench("baseline: hand-written check", () => do_not_optimize(handSubscribe(subscribe))).baseline(true);
    bench("TypeBox compiled Check", () => do_not_optimize(subscribeCheck.Check(subscribe)));
  });
});

summary(() => {
  // src/transports/ws/unified.ts validates every op with `Errors(value).First()`, valid or not; a
  // `Check` first would only walk the errors for frames that have one.
  const publishCheck = TypeCompiler.Compile(PublishOp);
  const publish = { op: "publish", topic: "chat", data: { content: "k1@123.456" } };
  group("WS publish op, valid: how ws-unified validates it today vs Check first", () => {
    bench("baseline: compiled Check", () => do_not_optimize(publishCheck.Check(publish))).baseline(true);
    bench("Errors(value).First() (ws-unified firstError today)", () => do_not_optimize(publishCheck.Errors(publish).First()));
  });
});

await runMicro("typebox.bench");
