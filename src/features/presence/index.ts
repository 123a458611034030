/**
 * Presence (issue #20): who is subscribed to a topic, over every transport and endpoint, as
 * the hub's membership reports it. `GET /presence/{topic}` and the in-band `/ws` op
 * `{"op":"presence","topic"}` answer it (permission: subscribe on the topic); join/leave frames
 * go out on `presence:<topic>` for topics matching `PRESENCE_EVENTS` (`presence-events.ts`).
 *
 * Embedded, this instance's members are the answer. With Redis every instance writes its
 * members to a sorted set per topic and refreshes them on a timer; entries of a killed instance
 * expire within `PRESENCE_TTL_MS` and the sweep that removes them announces their `leave`
 * (`redis-presence.ts`). A Redis that came back empty is filled again by the next refresh.
 * A graceful stop (SIGTERM) removes this instance's members and announces their leave at once,
 * before the Redis connections close, instead of leaving them to expire.
 *
 * The joins each client has announced are bounded (`join-allowance.ts`, whatever the transport
 * or endpoint): past the allowance a member joins without a join or leave frame.
 * @module
 */
import type { AppContext } from "../../app/context.ts";
import type { Feature } from "../../app/feature.ts";
import type { Member } from "../../core/membership.ts";
import { badRequest, jsonResponse, unavailable } from "../../http/errors.ts";
import { topicProblem } from "../../http/params.ts";
import type { Redis } from "../../infra/redis/client.ts";
import { JoinAllowance, PRESENCE_JOIN_BURST, PRESENCE_JOINS_PER_SECOND } from "./join-allowance.ts";
import { LocalMembers, type PresenceMember, type PresenceSnapshot } from "./members.ts";
import { presenceDocs } from "./presence-docs.ts";
import { PresenceEvents, presenceDerivation } from "./presence-events.ts";
import { RedisPresence } from "./redis-presence.ts";

export type { PresenceSnapshot } from "./members.ts";

/** How long `stop()` may spend removing this instance's members (the process exits 5 s after SIGTERM). */
const STOP_BUDGET_MS = 2000;

export interface PresenceDeps {
  /** Shares presence across instances; absent: this instance's members only (embedded). */
  redis?: Redis | undefined;
  /** Prefix of its Redis keys (`keyspace.ts`); `STREAM_PREFIX` by default. */
  keyPrefix?: string;
}

export interface PresenceFeature extends Feature {
  /** Who is subscribed to `topic` now (the caller checks permission). */
  snapshot(topic: string): Promise<PresenceSnapshot>;
  /** Whether joins and leaves of `topic` are announced (appended to the presence log). */
  announces(topic: string): boolean;
}

export function presenceFeature(ctx: AppContext, deps: PresenceDeps = {}): PresenceFeature {
  const { config, clock, log, hub } = ctx;
  const instance = crypto.randomUUID().slice(0, 8);
  const local = new LocalMembers();
  const store = deps.redis ? new RedisPresence(deps.redis, deps.keyPrefix ?? config.streamPrefix, config.presenceTtlMs) : undefined;
  const events = new PresenceEvents(hub, {
    patterns: config.presenceEvents,
    log,
    allowance: new JoinAllowance({ perSecond: PRESENCE_JOINS_PER_SECOND, burst: PRESENCE_JOIN_BURST, now: () => clock.now() }),
    onDropped: () => ctx.metrics.dropped("presence", "overflow", 1),
    onRefused: () => ctx.metrics.limitRefusals.inc({ limit: "presence_joins" }),
  });
  const warn = (what: string) => (err: unknown) => log.warn({ err: String(err) }, `presence: ${what} failed`);
  const toMember = (m: Member): PresenceMember => ({ client: `${instance}-${m.id}`, ...(m.sub === undefined ? {} : { user: m.sub }) });
  let stopListening: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let round: Promise<void> | undefined;
  /** Leaves written to Redis (and their announcements) not answered yet: `stop()` awaits them before the connections close. */
  const leaving = new Set<Promise<unknown>>();

  const listener = {
    joined(topic: string, m: Member) {
      const member = toMember(m);
      local.add(topic, member);
      store?.join(topic, member, clock.now()).catch(warn("join"));
      void events.announce("join", topic, member);
    },
    left(topic: string, m: Member) {
      const member = toMember(m);
      if (!local.remove(topic, member.client)) return;
      if (!store) return void events.announce("leave", topic, member);
      // Not there any more: a sweep removed it as expired, and announced its leave then. Not
      // written: it expires, and whichever instance sweeps it announces its leave.
      const write = store
        .leave(topic, member)
        .then(
          (removed) => (removed ? events.announce("leave", topic, member) : events.forget(topic, member)),
          (err: unknown) => (events.forget(topic, member), warn("leave")(err)),
        )
        .finally(() => leaving.delete(write));
      leaving.add(write);
    },
  };

  /** One refresh and sweep round; rounds never overlap (a slow Redis skips a beat instead). */
  const tick = () => {
    if (!store || round) return;
    const now = clock.now();
    round = (async () => {
      await store.refresh(local.entries(), now);
      const topics = [...local.entries()].map(([topic]) => topic);
      for (const [topic, member] of await store.sweep(topics, now)) void events.announce("leave", topic, member);
    })()
      .catch(warn("refresh"))
      .finally(() => (round = undefined));
  };

  return {
    name: "presence",
    docs: presenceDocs,
    routes: {
      "/presence/:topic": {
        GET: async (req) => {
          // Bun has decoded the path already: decoding again would make `%25` a 500 and `%253A` a colon.
          const topic = (req.params as Record<string, string>).topic ?? "";
          const problem = topicProblem(topic, "topic");
          if (problem) throw badRequest(problem, "topic");
          await ctx.auth.requireSubscribe(req, topic);
          return jsonResponse(await snapshot(topic));
        },
      },
    },
    snapshot,
    announces: (topic) => events.announces(topic),
    start() {
      hub.derive(presenceDerivation);
      stopListening = hub.membership.listen(listener);
      if (store) timer = setInterval(tick, Math.max(100, Math.floor(config.presenceTtlMs / 3)));
    },
    async stop() {
      stopListening?.();
      clearInterval(timer);
      let budget: ReturnType<typeof setTimeout> | undefined;
      const overrun = new Promise<void>((resolve) => (budget = setTimeout(resolve, STOP_BUDGET_MS)));
      const done = leaveAll().then(
        () => true,
        (err: unknown) => (warn("shutdown")(err), true),
      );
      const finished = await Promise.race([done, overrun]);
      clearTimeout(budget);
      if (!finished) log.warn({ ms: STOP_BUDGET_MS }, "presence: members not all removed on shutdown; the rest expire within PRESENCE_TTL_MS");
    },
  };

  /** Shutdown: every member still here leaves, in Redis (a script per topic and chunk) and announced. */
  async function leaveAll(): Promise<void> {
    // After the round and the pending leaves: a refresh finishing later would write members back.
    await round;
    await Promise.all(leaving);
    const writes = local.drain().map(async ([topic, members]) => {
      const removed = store ? await store.leaveAll(topic, members).catch((err) => (warn("leave on shutdown")(err), [])) : members;
      await Promise.all(removed.map((member) => events.announce("leave", topic, member)));
    });
    await Promise.all(writes);
  }

  async function snapshot(topic: string): Promise<PresenceSnapshot> {
    if (!store) return local.snapshot(topic, config.presenceListMax);
    try {
      return await store.snapshot(topic, config.presenceListMax, clock.now());
    } catch (error) {
      throw unavailable(`presence: Redis is unreachable (${(error as Error).message})`, 1, error);
    }
  }
}
