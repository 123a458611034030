/**
 * The SSE chat seed: `POST /messages` (201), `GET /messages` (retained history), `POST /notify`
 * (the seed's internal broadcast, 202) and the in-band WS `publish` op on `chat`. Messages are
 * delivered on topic `chat` by the shared transports: `GET /events` (its default topic; the
 * default SSE event type, so `EventSource.onmessage` sees them) and `/ws`.
 * @module
 */

import type { AppContext } from "../../app/context.ts";
import type { Feature } from "../../app/feature.ts";
import { readJson, Validator } from "../../http/body.ts";
import { jsonResponse } from "../../http/errors.ts";
import { chatDocs } from "./chat-docs.ts";
import { CHAT_TOPIC, ChatService } from "./chat-service.ts";
import { parseHistoryQuery } from "./history-query.ts";
import { NotifyBody, PostMessageBody } from "./schemas.ts";

const postBody = new Validator(PostMessageBody);
const notifyBody = new Validator(NotifyBody);

export function chatFeature(ctx: AppContext): Feature {
  const chat = new ChatService(ctx);
  return {
    name: "chat",
    docs: chatDocs,
    routes: {
      "/messages": {
        POST: async (req) => {
          await ctx.auth.requirePublish(req, CHAT_TOPIC);
          const input = postBody.parse(await readJson(req));
          const { body, seq } = await chat.post(input);
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
          await ctx.auth.requirePublish(req, CHAT_TOPIC);
          const { seq } = await chat.notify(notifyBody.parse(await readJson(req)));
          return jsonResponse({ status: "accepted", seq }, 202);
        },
      },
    },
    start() {
      ctx.publishers.set(CHAT_TOPIC, async (data) => {
        const { seq } = await chat.post(postBody.parse(data, "data"));
        return { seq };
      });
    },
    stop() {
      ctx.publishers.delete(CHAT_TOPIC);
    },
  };
}
