/**
 * The SSE chat seed: `POST /messages` (201), `GET /messages` (retained history), `POST /notify`
 * (the seed's internal broadcast, 202) and the in-band WS `publish` op on `chat`. Messages are
 * delivered on topic `chat` by the shared transports: `GET /events` (its default topic; the
 * default SSE event type, so `EventSource.onmessage` sees them) and `/ws`.
 * @module
 */

import type { AppContext } from "../../app/context.ts";
import type { Feature } from "../../app/feature.ts";
import { readJson } from "../../http/body.ts";
import { jsonResponse } from "../../http/errors.ts";
import { chatDocs } from "./chat-docs.ts";
import { parseNotify, parsePostMessage } from "./chat-input.ts";
import { CHAT_TOPIC, ChatService } from "./chat-service.ts";
import { parseHistoryQuery } from "./history-query.ts";

export function chatFeature(ctx: AppContext): Feature {
  const chat = new ChatService(ctx);
  return {
    name: "chat",
    docs: chatDocs,
    routes: {
      "/messages": {
        POST: async (req) => {
          const principal = await ctx.auth.requirePublish(req, CHAT_TOPIC);
          const { body, seq } = await chat.post(parsePostMessage(await readJson(req)), principal);
          const { id, content, user, timestamp } = body;
          return jsonResponse({ id, content, user, timestamp, status: "sent", seq }, 201);
        },
        GET: async (req) => {
          await ctx.auth.requireSubscribe(req, CHAT_TOPIC);
          const { since, limit } = parseHistoryQuery(new URL(req.url).searchParams);
          return jsonResponse(await chat.history(since, limit));
        },
      },
      "/notify": {
        POST: async (req) => {
          const principal = await ctx.auth.requirePublish(req, CHAT_TOPIC);
          const { seq } = await chat.notify(parseNotify(await readJson(req)), principal);
          return jsonResponse({ status: "accepted", seq }, 202);
        },
      },
    },
    async start() {
      // Ids continue after the newest message stored before this start (a restart, a clock that
      // stepped back). A log that cannot be read now leaves the clock (and Redis counter) alone.
      await chat.resumeIds().catch((err: unknown) => ctx.log.warn({ err: String(err) }, "chat: could not read the newest message id"));
      // The unified transport hands over the connection's principal: it names the author.
      ctx.publishers.set(CHAT_TOPIC, async (data, principal) => {
        const { seq } = await chat.post(parsePostMessage(data, "data"), principal);
        return { seq };
      });
    },
    stop() {
      ctx.publishers.delete(CHAT_TOPIC);
    },
  };
}
