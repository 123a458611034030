/**
 * `/ws`: the seed cron endpoint and the unified endpoint. With no `?topics=` a socket gets `cron`
 * frames and needs to send nothing (the seed client). In-band ops (`unified-ops.ts`): `subscribe`
 * (with `since` for replay), `unsubscribe`, `publish`, `ping`, each answered with `ack` or `error`.
 * @module
 */
import { canSubscribe } from "../../auth/access.ts";
import { limitExceeded } from "../../http/errors.ts";
import { MAX_TOPICS_PARAM, sinceParam, splitTopics, topicProblem } from "../../http/params.ts";
import type { RouteMethods } from "../../http/routes.ts";
import { parseClientFrame, rejectMalformed } from "./client-frames.ts";
import { type AppServer, type SocketBehavior, sendError, upgrade } from "./socket.ts";
import { unifiedDocs } from "./unified-docs.ts";
import { handleUnifiedOp, type UnifiedDeps } from "./unified-ops.ts";

export { subscribeSocket, type TopicPublisher, type UnifiedDeps } from "./unified-ops.ts";

export const UNIFIED_SOCKET = "unified";

/** `/ws` as a feature of its own: its route, its sockets and its docs. */
export function unifiedEndpoint(deps: UnifiedDeps) {
  return { name: "unified", routes: unifiedRoutes(deps), sockets: { [UNIFIED_SOCKET]: unifiedSocket(deps) }, docs: unifiedDocs };
}

/** The `/ws` upgrade route. */
export function unifiedRoutes(deps: UnifiedDeps): Record<string, RouteMethods<AppServer>> {
  return {
    "/ws": {
      GET: async (req, server) => {
        const topics = new URL(req.url).searchParams.get("topics");
        const max = deps.maxTopics ?? MAX_TOPICS_PARAM;
        if (topics !== null && (topics.length > 130 * max || splitTopics(topics).length > max)) {
          deps.onLimit?.("topics_per_connection");
          throw limitExceeded(`topics: more than ${max} topics (MAX_TOPICS_PER_CONNECTION)`, "topics");
        }
        const since = sinceParam(req);
        return upgrade(req, server, UNIFIED_SOCKET, { since, principal: await deps.auth.principal(req) });
      },
    },
  };
}

/** What `/ws` sockets do. */
export function unifiedSocket(deps: UnifiedDeps): SocketBehavior {
  return {
    open(ws) {
      const raw = ws.data.query.get("topics");
      const topics: string[] = [];
      for (const topic of raw === null ? ["cron"] : splitTopics(raw)) {
        const problem = topicProblem(topic);
        if (problem) {
          sendError(ws, "bad_topic", problem);
          continue;
        }
        if (!canSubscribe(ws.data.principal, topic)) {
          sendError(ws, "forbidden", `topics: not allowed to subscribe to ${topic}`);
          continue;
        }
        topics.push(topic);
      }
      // One `since` for all: their replays are merged, so any seq received resumes them all.
      ws.data.subscriptions?.addAll(topics, { since: ws.data.since });
    },
    message(ws, message) {
      const now = deps.clock.now();
      const parsed = parseClientFrame(message);
      if ("error" in parsed) return rejectMalformed(ws, now, "bad_frame", parsed.error);
      handleUnifiedOp(deps, ws, parsed.value).catch((error: unknown) => deps.log.error({ err: error }, "ws op failed"));
    },
  };
}
