/**
 * The in-band ops of `/ws` (`subscribe` with `since`, `unsubscribe`, `publish`, `ping`, `presence`): each
 * frame is validated against its schema and answered with `ack` or `error`.
 * @module
 */
import type { Static } from "@sinclair/typebox";
import { canPublish, canSubscribe } from "../../auth/access.ts";
import type { Auth } from "../../auth/auth.ts";
import type { Principal } from "../../auth/principal.ts";
import type { Clock } from "../../core/clock.ts";
import { Validator } from "../../http/body.ts";
import { httpErrorOf } from "../../http/errors.ts";
import type { Logger } from "../../log.ts";
import { admitPublish, PUBLISH_RATE_MESSAGE, rejectMalformed } from "./client-frames.ts";
import { PingOp, PresenceOp, PublishOp, SubscribeOp, UnsubscribeOp } from "./op-schemas.ts";
import { type Socket, sendError, sendJson } from "./socket.ts";

/** Handles `{"op":"publish","topic","data"}` for one topic; resolves with the stored seq. */
export type TopicPublisher = (data: unknown, principal: Principal | undefined) => Promise<{ seq: string }>;

export interface UnifiedDeps {
  auth: Auth;
  clock: Clock;
  log: Logger;
  /** Topics clients may publish to over WebSocket, and how (filled in by the features). */
  publishers: ReadonlyMap<string, TopicPublisher>;
  /** Topics one socket may be subscribed to (`MAX_TOPICS_PER_CONNECTION`). */
  maxTopics?: number;
  /** Publishes one socket may send a second (`WS_PUBLISHES_PER_SECOND`). */
  publishesPerSecond?: number;
  /** Counts an action refused by a limit, by limit name. */
  onLimit?: (limit: "topics_per_connection" | "ws_publishes") => void;
  /**
   * The position a subscription without `since` starts at (the hub's), sent in its ack: a client
   * that sees no frame before a disconnect still knows where to resume from.
   */
  position?: (topic: string) => { seq: string; epoch?: string } | undefined;
  /** Who is subscribed to a topic (the presence feature); absent: the op answers not_available. */
  presence?: (topic: string) => Promise<unknown>;
  /**
   * Topics whose joins and leaves are appended to a log (presence events): subscribing to one or
   * leaving it costs a publish, so that flapping cannot flood that shared log past the publish limit.
   * (Presence also bounds the joins each token `sub` has announced, on every path: `join-allowance.ts`.)
   */
  announced?: (topic: string) => boolean;
}

const checks = {
  subscribe: new Validator(SubscribeOp),
  unsubscribe: new Validator(UnsubscribeOp),
  publish: new Validator(PublishOp),
  ping: new Validator(PingOp),
  presence: new Validator(PresenceOp),
};
type OpName = keyof typeof checks;

export const topicLimitMessage = (max: number) => `topic: this connection already has ${max} topics (MAX_TOPICS_PER_CONNECTION); unsubscribe first`;

/** Subscribes `ws` to `topic` (resuming after `since` when given) through its subscriptions. */
export function subscribeSocket(ws: Socket, topic: string, since: string | undefined, reserved = false): void {
  ws.data.subscriptions?.add(topic, { since, reserved });
}

/** Runs one client op of a `/ws` socket. */
export async function handleUnifiedOp(deps: UnifiedDeps, ws: Socket, frame: Record<string, unknown>): Promise<void> {
  const op = frame.op;
  const now = deps.clock.now();
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
      const subs = ws.data.subscriptions;
      if (subs && !subs.has(topic) && subs.size >= (deps.maxTopics ?? Number.POSITIVE_INFINITY)) {
        deps.onLimit?.("topics_per_connection");
        return sendError(ws, "limit_exceeded", topicLimitMessage(deps.maxTopics!), ref);
      }
      if (!subs?.has(topic) && deps.announced?.(topic) && !admitOrRefuse(deps, ws, now, ref)) return;
      // A resume the replay allowance refuses is answered as such, not acknowledged first.
      const resume = since !== undefined && subs !== undefined;
      const refused = resume ? subs.reserveReplay() : undefined;
      if (refused) return sendJson(ws, { op: "error", code: refused.code, topic, message: `topic: ${refused.message}`, ...(ref !== undefined ? { ref } : {}) });
      // Read in the same turn as the socket goes live: every entry after it arrives live.
      reply({ topic, ...(since === undefined && !subs?.has(topic) ? deps.position?.(topic) : undefined) });
      // Already on it: with `since`, it replays from there again (after the ack, as a new subscription).
      if (resume && subs.has(topic)) return void subs.restart(topic, { since, reserved: true });
      return subscribeSocket(ws, topic, since, resume);
    }
    case "presence": {
      const { topic } = frame as Static<typeof PresenceOp>;
      if (!canSubscribe(ws.data.principal, topic)) return sendError(ws, "forbidden", `topic: not allowed to subscribe to ${topic}`, ref);
      if (!deps.presence) return sendError(ws, "not_available", "presence is not enabled on this server", ref);
      try {
        return reply({ topic, presence: await deps.presence(topic) });
      } catch (caught) {
        const error = httpErrorOf(caught);
        return sendError(ws, error.code, error.message, ref);
      }
    }
    case "unsubscribe": {
      const { topic } = frame as Static<typeof UnsubscribeOp>;
      if (ws.data.subscriptions?.has(topic) && deps.announced?.(topic) && !admitOrRefuse(deps, ws, now, ref)) return;
      ws.data.subscriptions?.remove(topic);
      return reply({ topic });
    }
    case "publish": {
      const { topic, data } = frame as Static<typeof PublishOp>;
      const publisher = deps.publishers.get(topic);
      if (!publisher)
        return sendError(ws, "not_publishable", `topic: clients may publish only on ${[...deps.publishers.keys()].join(", ") || "no topic"}`, ref);
      if (!canPublish(ws.data.principal, topic)) return sendError(ws, "forbidden", `topic: not allowed to publish on ${topic}`, ref);
      if (!admitOrRefuse(deps, ws, now, ref)) return;
      try {
        const { seq } = await publisher(data, ws.data.principal);
        return reply({ topic, seq });
      } catch (caught) {
        const error = httpErrorOf(caught);
        if (error.status >= 500 && error.code === "internal") deps.log.error({ err: caught, topic }, "ws publish failed");
        return sendError(ws, error.code, error.code === "internal" ? "publish failed" : error.message, ref);
      }
    }
  }
}

/** Takes one publish from the socket's allowance, or answers `rate_limited`; whether it was taken. */
function admitOrRefuse(deps: UnifiedDeps, ws: Socket, now: number, ref: string | number | undefined): boolean {
  const perSecond = deps.publishesPerSecond ?? Number.POSITIVE_INFINITY;
  if (admitPublish(ws, now, perSecond)) return true;
  deps.onLimit?.("ws_publishes");
  sendError(ws, "rate_limited", PUBLISH_RATE_MESSAGE(perSecond), ref);
  return false;
}
