/**
 * `/ws`: the seed cron endpoint and the unified endpoint. With no `?topics=` a socket gets `cron`
 * frames and needs to send nothing (the seed client). In-band ops: `subscribe` (with `since` for
 * replay), `unsubscribe`, `publish`, `ping`, each answered with `ack` or `error`.
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import { isSeq } from "../../core/seq.ts";
import { isTopic } from "../../core/topic.ts";
import { LogUnavailableError } from "../../core/topic-log.ts";
import { HttpError, logUnavailable } from "../../http/errors.ts";
import { canPublish, canSubscribe } from "../../auth/access.ts";
import type { AppContext } from "../../app/context.ts";
import type { Feature, Socket, SocketBehavior } from "../../app/feature.ts";
import { Validator } from "../../http/body.ts";
import { rejectMalformed, sendError, sendJson, sinceParam, upgrade, wsReplayTarget } from "./socket.ts";

const Topic = Type.String({ pattern: "^[A-Za-z0-9:_-]{1,128}$", description: "topic name" });
const Ref = Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Number()], { description: "echoed in the reply" }));

export const SubscribeOp = Type.Object({
  op: Type.Literal("subscribe"),
  topic: Topic,
  since: Type.Optional(Type.String({ pattern: "^\\d{1,16}(-\\d{1,16})?$", description: "replay retained events after this seq" })),
  ref: Ref,
});
export const UnsubscribeOp = Type.Object({ op: Type.Literal("unsubscribe"), topic: Topic, ref: Ref });
export const PublishOp = Type.Object({ op: Type.Literal("publish"), topic: Topic, data: Type.Unknown(), ref: Ref });
export const PingOp = Type.Object({ op: Type.Literal("ping"), ref: Ref });

const checks = {
  subscribe: new Validator(SubscribeOp),
  unsubscribe: new Validator(UnsubscribeOp),
  publish: new Validator(PublishOp),
  ping: new Validator(PingOp),
};
type OpName = keyof typeof checks;

/** Parses a client frame into a JSON object, or explains why it is not one. */
export function parseClientFrame(message: string | Buffer): { value: Record<string, unknown> } | { error: string } {
  if (typeof message !== "string") return { error: "binary frames are not accepted; send JSON text" };
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { error: "frame is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "frame must be a JSON object" };
  return { value: value as Record<string, unknown> };
}

/** Subscribes `ws` to `topic`, replaying after `since` when given. */
export function subscribeSocket(ctx: AppContext, ws: Socket, topic: string, since: string | undefined): void {
  const d = ws.data;
  if (d.topics.has(topic)) return;
  d.topics.add(topic);
  if (since === undefined) {
    ws.subscribe(topic);
    return;
  }
  const target = wsReplayTarget(ws, topic, ctx.config.backpressureLimit, () => d.replays?.delete(topic));
  (d.replays ??= new Map()).set(topic, target);
  ctx.hub.replay(topic, since, target).catch((error: unknown) => {
    ctx.log.warn({ err: String(error), topic, socket: d.id }, "replay failed");
    d.replays?.delete(topic);
    d.topics.delete(topic);
    sendError(ws, "replay_failed", `could not read history of ${topic}; retry`);
  });
}

export function unsubscribeAll(ctx: AppContext, ws: Socket): void {
  const d = ws.data;
  if (d.replays) for (const [topic, target] of d.replays) ctx.hub.cancelReplay(topic, target);
  d.replays?.clear();
  d.topics.clear();
}

export function unifiedFeature(ctx: AppContext): Feature {
  const handleOp = async (ws: Socket, frame: Record<string, unknown>): Promise<void> => {
    const op = frame.op;
    const now = ctx.clock.now();
    if (typeof op !== "string" || !(op in checks)) {
      return rejectMalformed(ws, now, "unknown_op", `op: expected one of ${Object.keys(checks).join(", ")}`, frame.ref);
    }
    const problem = checks[op as OpName].problem(frame, "frame");
    if (problem) return rejectMalformed(ws, now, "bad_frame", problem.message, frame.ref);
    const ref = frame.ref as string | number | undefined;
    const reply = (extra: Record<string, unknown>) => sendJson(ws, { op: "ack", ...(ref !== undefined ? { ref } : {}), ...extra });
    switch (op as OpName) {
      case "ping":
        return reply({ pong: true, ts: Math.floor(now) });
      case "subscribe": {
        const { topic, since } = frame as Static<typeof SubscribeOp>;
        if (!canSubscribe(ws.data.principal, topic)) return sendError(ws, "forbidden", `topic: not allowed to subscribe to ${topic}`, ref);
        reply({ topic });
        return subscribeSocket(ctx, ws, topic, since);
      }
      case "unsubscribe": {
        const { topic } = frame as Static<typeof UnsubscribeOp>;
        ws.unsubscribe(topic);
        const target = ws.data.replays?.get(topic);
        if (target) ctx.hub.cancelReplay(topic, target);
        ws.data.replays?.delete(topic);
        ws.data.topics.delete(topic);
        return reply({ topic });
      }
      case "publish": {
        const { topic, data } = frame as Static<typeof PublishOp>;
        const publisher = ctx.publishers.get(topic);
        if (!publisher) return sendError(ws, "not_publishable", `topic: clients may publish only on ${[...ctx.publishers.keys()].join(", ") || "no topic"}`, ref);
        if (!canPublish(ws.data.principal, topic)) return sendError(ws, "forbidden", `topic: not allowed to publish on ${topic}`, ref);
        try {
          const { seq } = await publisher(data, ws.data.principal);
          return reply({ topic, seq });
        } catch (caught) {
          const error = caught instanceof LogUnavailableError ? logUnavailable(caught) : caught;
          if (error instanceof HttpError) return sendError(ws, error.code, error.message, ref);
          ctx.log.error({ err: error, topic }, "ws publish failed");
          return sendError(ws, "internal", "publish failed", ref);
        }
      }
    }
  };

  const behavior: SocketBehavior = {
    open(ws) {
      const raw = ws.data.query.get("topics");
      const since = ws.data.query.get("since") ?? undefined;
      const topics = raw === null ? ["cron"] : raw.split(",").map((t) => t.trim()).filter(Boolean);
      for (const topic of topics) {
        if (!isTopic(topic)) {
          sendError(ws, "bad_topic", `topics: ${JSON.stringify(String(topic).slice(0, 140))} is not a topic name ([A-Za-z0-9:_-]{1,128})`);
          continue;
        }
        if (!canSubscribe(ws.data.principal, topic)) {
          sendError(ws, "forbidden", `topics: not allowed to subscribe to ${topic}`);
          continue;
        }
        subscribeSocket(ctx, ws, topic, since !== undefined && isSeq(since) ? since : undefined);
      }
    },
    message(ws, message) {
      const parsed = parseClientFrame(message);
      if ("error" in parsed) return rejectMalformed(ws, ctx.clock.now(), "bad_frame", parsed.error);
      handleOp(ws, parsed.value).catch((error: unknown) => ctx.log.error({ err: error }, "ws op failed"));
    },
    close(ws) {
      unsubscribeAll(ctx, ws);
    },
  };

  return {
    name: "unified",
    routes: {
      "/ws": {
        GET: async (req, server) => {
          const topics = new URL(req.url).searchParams.get("topics");
          if (topics !== null && topics.length > 128 * 64) throw new HttpError(400, "bad_request", "topics: too many topics", "topics");
          sinceParam(req);
          return upgrade(req, server, "unified", {}, await ctx.auth.principal(req));
        },
      },
    },
    sockets: { unified: behavior },
  };
}
