/**
 * The relay (seed: redis-stream-relay): managers send text on `/ws/manager`, each message is
 * appended to the durable `relay` topic (a Redis Stream in Redis mode, so every instance tails
 * it), and broadcasters on `/ws/broadcast` / `/ws/broadcaster` receive the text verbatim in log
 * order. The same log feeds the unified `relay` topic (wrapped frames on `/ws` and SSE), and
 * `{"op":"publish","topic":"relay","data":"text"}` on `/ws` appends like a manager does.
 *
 * One tap per instance turns each delivered entry into one raw publish, so the verbatim stream
 * costs one `publish` per message whatever the number of broadcasters.
 * @module
 */

import type { AppContext } from "../../app/context.ts";
import type { Feature, RouteHandler } from "../../app/feature.ts";
import { sinceParam } from "../../http/params.ts";
import { upgrade } from "../../transports/ws/socket.ts";
import { broadcasterSocket } from "./broadcaster-socket.ts";
import { RelayIngest, type RelayIngestOptions } from "./ingest.ts";
import { managerSocket } from "./manager-socket.ts";
import { RELAY_RAW_CHANNEL, RELAY_TOPIC } from "./message.ts";
import { relayDocs } from "./relay-docs.ts";
import { relayPublisher } from "./relay-publisher.ts";

export interface RelayOptions {
  /** Appends in flight per instance before managers get `overloaded` (default 1024). */
  maxInFlight?: RelayIngestOptions["maxInFlight"];
  maxInFlightBytes?: RelayIngestOptions["maxInFlightBytes"];
}

export function relayFeature(ctx: AppContext, opts: RelayOptions = {}): Feature {
  const ingest = new RelayIngest({
    ...opts,
    // Looked up per call, not bound once, so the hub stays the one path to the log.
    append: (message) => ctx.hub.append(RELAY_TOPIC, { message }),
    onError: (err) => ctx.log.error({ err, topic: RELAY_TOPIC }, "relay append failed"),
  });
  let untap: (() => void) | undefined;

  const broadcast: RouteHandler = async (req, server) => {
    const principal = await ctx.auth.requireSubscribe(req, RELAY_TOPIC);
    return upgrade(req, server, "relay-broadcaster", { since: sinceParam(req), principal });
  };

  return {
    name: "relay",
    docs: relayDocs,
    routes: {
      "/ws/manager": {
        GET: async (req, server) =>
          upgrade(req, server, "relay-manager", { principal: await ctx.auth.requirePublish(req, RELAY_TOPIC), requirePublish: RELAY_TOPIC }),
      },
      "/ws/broadcast": { GET: broadcast },
      "/ws/broadcaster": { GET: broadcast },
    },
    sockets: {
      "relay-manager": managerSocket(ctx, ingest),
      "relay-broadcaster": broadcasterSocket(ctx),
    },
    start() {
      untap = ctx.hub.tap(RELAY_TOPIC, (entry) => {
        const message = entry.body.message;
        if (typeof message === "string") ctx.hub.publishRaw(RELAY_RAW_CHANNEL, message);
      });
      ctx.queueDepths.set("relay_ingest", () => ingest.inFlight);
      ctx.publishers.set(RELAY_TOPIC, relayPublisher(ingest));
    },
    stop() {
      untap?.();
      ctx.publishers.delete(RELAY_TOPIC);
      ctx.queueDepths.delete("relay_ingest");
    },
  };
}
