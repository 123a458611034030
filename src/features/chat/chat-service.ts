/**
 * Chat's one job: turn a posted message into the seed's body and append it to the durable `chat`
 * log. Delivery (SSE, WebSocket, every instance) happens when the log's tail hands it back to the
 * hub, so a message is answered `201` only once it is stored and will reach every subscriber.
 * @module
 */

import type { AppContext } from "../../app/context.ts";
import { displayName, type Principal } from "../../auth/principal.ts";
import { ClaimConflictError, LogUnavailableError } from "../../core/topic-log.ts";
import { CHAT_ID_COUNTER, floorFromNewest, MessageIds } from "./message-ids.ts";
import type { ChatBody, NotifyBody, PostMessageBody } from "./schemas.ts";

export const CHAT_TOPIC = "chat";
export const DEFAULT_USER = "anonymous";
/** `GET /messages` returns at most this many messages per call. */
export const MAX_HISTORY_LIMIT = 1000;
export const DEFAULT_HISTORY_LIMIT = 100;
/** Claims of a message id one post makes at most (each lost one means another instance posted meanwhile). */
const MAX_ID_CLAIMS = 16;

/**
 * Who a message is from. With auth on the token says (its `name` claim, else its `sub`) and a
 * client-supplied `user` is ignored, so nobody posts under another's name; with auth off (no
 * principal) the client's `user`, default {@link DEFAULT_USER}. An empty or blank `user` is the
 * default too: the Go seed could not tell `""` from a missing `user`, and a blank name names
 * nobody.
 */
export function authorOf(principal: Principal | undefined, claimed: string | undefined): string {
  if (principal) return displayName(principal) || DEFAULT_USER;
  return claimed?.trim() ? claimed : DEFAULT_USER;
}

/** A stored chat message as frames carry it: `{topic, seq, ts, type, id, content, user, timestamp}`. */
export type ChatFrame = { topic: string; seq: string; ts: number } & ChatBody;

export class ChatService {
  #ctx: AppContext;
  #ids = new MessageIds();

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  /** Makes every id issued from now on follow the newest message in the log (a restart). */
  async resumeIds(): Promise<void> {
    const read = await this.#ctx.hub.log.readAfter(CHAT_TOPIC, undefined);
    this.#ids.raise(floorFromNewest(read.entries.at(-1)));
  }

  /** Stores a new message from `principal`; resolves once it is in the log. */
  async post(input: PostMessageBody, principal: Principal | undefined): Promise<{ body: ChatBody; seq: string }> {
    const user = authorOf(principal, input.user);
    for (let attempt = 1; ; attempt++) {
      const { id, micros } = this.#ids.next(this.#ctx.clock.now());
      // The instant the id names, to the millisecond: id and timestamp never disagree.
      const body: ChatBody = { type: "message", id, content: input.content, user, timestamp: new Date(Math.floor(micros / 1000)).toISOString() };
      try {
        const entry = await this.#ctx.hub.append(CHAT_TOPIC, body, { claim: { name: CHAT_ID_COUNTER, value: micros } });
        return { body, seq: entry.seq };
      } catch (error) {
        if (!(error instanceof ClaimConflictError)) throw error;
        // Another instance stored a later id first: go above it.
        this.#ids.raise(error.current);
        if (attempt >= MAX_ID_CLAIMS) throw new LogUnavailableError(`chat: no free message id after ${attempt} claims; retry shortly`, "overloaded");
      }
    }
  }

  /** Broadcasts a message built elsewhere (the seed's message service calling `/notify`). */
  async notify(input: NotifyBody, principal: Principal | undefined): Promise<{ seq: string }> {
    const body: ChatBody = {
      type: input.type ?? "message",
      id: input.id,
      content: input.content,
      user: authorOf(principal, input.user),
      timestamp: input.timestamp,
    };
    return { seq: await this.#append(body) };
  }

  /**
   * Retained messages, oldest first: after `since` (at most `limit`, for paging forward), or the
   * newest `limit` when `since` is absent. `recovered: false` when messages after `since` were
   * already evicted.
   */
  async history(since: string | undefined, limit: number): Promise<{ messages: ChatFrame[]; recovered: boolean; epoch?: string }> {
    const read = await this.#ctx.hub.log.readAfter(CHAT_TOPIC, since, since === undefined ? undefined : limit);
    const entries = since === undefined ? read.entries.slice(-limit) : read.entries;
    const messages = entries.map((e) => ({ topic: e.topic, seq: e.seq, ts: e.ts, ...(e.body as ChatBody) }));
    return { messages, recovered: read.recovered, ...(read.epoch === undefined ? {} : { epoch: read.epoch }) };
  }

  async #append(body: ChatBody): Promise<string> {
    // A LogUnavailableError becomes the 503 (HTTP) or `overloaded` / `log_unavailable` error
    // frame (WS publish) in one place, `httpErrorOf`.
    return (await this.#ctx.hub.append(CHAT_TOPIC, body)).seq;
  }
}
