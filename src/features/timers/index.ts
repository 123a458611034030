/**
 * The game master timer service (seed: timer-microservice): REST, customer and game master
 * WebSockets, per-tick `TIMER_UPDATE`, expiry, restart recovery and multi-instance sync.
 *
 * Storage: the database opened by `main.ts` (MySQL or SQLite through Drizzle), hot state in
 * Redis hashes when `main.ts` hands one over (`REDIS_URL`). Events: durable state changes
 * appended to the `timers` log; `timer:<id>` and `session:<sessionId>` are derived from it (same
 * seq, one stream).
 * @module
 */
import { randomUUID } from "node:crypto";
import type { AppContext } from "../../app/context.ts";
import type { Feature } from "../../app/feature.ts";
import type { LogEntry } from "../../core/topic-log.ts";
import type { Database } from "../../infra/db/database.ts";
import { ANSWER_KEEP_MS } from "./answer-cap.ts";
import type { HotState } from "./hot-state.ts";
import { OutboxPublisher } from "./outbox-publisher.ts";
import { timerDocs } from "./timer-docs.ts";
import { outboxGauges } from "./timer-events.ts";
import type { TimerLimits } from "./timer-limits.ts";
import { TimerMap } from "./timer-map.ts";
import { timerRoutes } from "./timer-routes.ts";
import { TIMERS_TOPIC, TimerService } from "./timer-service.ts";
import { DeliveredTimers } from "./timer-snapshot.ts";
import { timerSocketRoutes, timerSockets } from "./timer-sockets.ts";
import { timerStoreFor } from "./timer-store-for.ts";

export interface TimersFeature extends Feature {
  readonly service: TimerService;
  /** Unpublished events in the outbox, and the age of the oldest (s), for `/metrics`. */
  outboxStats(): Promise<{ depth: number; oldestSeconds: number }>;
}

export interface TimersDeps {
  database: Database;
  /** Shared hot state (Redis); absent: in-process. `main.ts` owns its connection. */
  hotState?: HotState | undefined;
}

export function timersFeature(ctx: AppContext, deps: TimersDeps): TimersFeature {
  const answerCap = {
    perOwner: ctx.config.idempotencyKeysPerSub,
    keepMs: ANSWER_KEEP_MS,
    refused: () => ctx.metrics.limitRefusals.inc({ limit: "idempotency_keys_per_sub" }),
  };
  const store = timerStoreFor(deps.database, { queryTimeoutMs: ctx.config.dbQueryTimeoutMs, answerCap });
  const instance = randomUUID();
  const outbox = new OutboxPublisher({
    store,
    hub: ctx.hub,
    clock: ctx.clock,
    log: ctx.log,
    instance,
    onRetry: () => ctx.metrics.outboxRetries.inc(),
    // Answers to idempotent requests are kept a day.
    housekeeping: () => store.purgeAnswers(ctx.clock.now() - 86_400_000),
  });
  const limits: TimerLimits = {
    perSession: ctx.config.timersPerSession,
    total: ctx.config.timersMax,
    refused: (limit) => ctx.metrics.limitRefusals.inc({ limit }),
  };
  const timers = new TimerMap();
  // What customers and game masters are shown first when they connect (`timer-snapshot.ts`).
  const delivered = new DeliveredTimers(timers);
  // A change waits for its turn behind the others of its timer at most one query timeout.
  const turnWaitMs = ctx.config.dbQueryTimeoutMs;
  const service = new TimerService({
    store,
    instance,
    limits,
    timers,
    turnWaitMs,
    onCommitted: () => void outbox.kick(),
    hub: ctx.hub,
    clock: ctx.clock,
    log: ctx.log,
  });
  if (deps.hotState) service.useHotState(deps.hotState);
  const cleanups: (() => unknown)[] = [];

  ctx.hub.derive({
    parent: TIMERS_TOPIC,
    topicsOf: (entry) => {
      const payload = entry.body.payload as { id?: unknown; sessionId?: unknown } | undefined;
      return payload && typeof payload.id === "number" && typeof payload.sessionId === "string" ? [`timer:${payload.id}`, `session:${payload.sessionId}`] : [];
    },
    matches: (topic) => topic.startsWith("timer:") || topic.startsWith("session:"),
  });

  return {
    name: "timers",
    service,
    outboxStats: () => outboxGauges(store, ctx.clock.now()),
    routes: { ...timerRoutes(ctx, service), ...timerSocketRoutes(ctx) },
    sockets: timerSockets(ctx, service, { timers, delivered }),
    docs: timerDocs,
    async start() {
      // The hub's tail runs already: entries it delivers while the load reads the database are
      // kept and applied after it (the load may have read a row older than them).
      const duringLoad: LogEntry[] = [];
      const untapLoad = ctx.hub.tap(TIMERS_TOPIC, (entry) => void duringLoad.push(entry));
      const loaded = await service.load().finally(untapLoad);
      ctx.log.info({ ...loaded, database: deps.database.location }, "timers loaded");
      delivered.seed();
      cleanups.push(ctx.hub.tap(TIMERS_TOPIC, (entry) => service.applyEntry(entry)));
      cleanups.push(ctx.hub.tap(TIMERS_TOPIC, (entry) => delivered.apply(entry)));
      for (const entry of duringLoad) {
        service.applyEntry(entry);
        delivered.apply(entry);
      }
      // Events left unpublished by a crash or a log outage go out before any new one.
      await outbox.start();
      cleanups.push(() => outbox.stop());
      cleanups.push(ctx.ticker.onTick((tick) => service.tick(tick)));
    },
    async stop() {
      for (const cleanup of cleanups.reverse()) await cleanup();
      cleanups.length = 0;
    },
  };
}
