/**
 * tickwire's composition root: reads config, opens every connection to the outside world
 * (Redis, the database), builds the core, the transports, the features and the server, and
 * disposes them in reverse order, on shutdown and on a start that failed half-way. Nothing else
 * in `src/` wires modules together or opens a connection.
 *
 * Run: `bun src/main.ts` (config from the environment, see README).
 * @module
 */
import type { AppContext } from "./app/context.ts";
import { disposeAll } from "./app/dispose.ts";
import type { Feature } from "./app/feature.ts";
import { createServer, type RunningServer, requestDrainMs } from "./app/server.ts";
import { buildTicker } from "./app/ticker-settings.ts";
import { authOf } from "./auth/from-config.ts";
import { authConfigured, type Config, ConfigError, loadConfig, redisTarget } from "./config/index.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { ConnectionQuota } from "./core/connection-quota.ts";
import { Hub } from "./core/hub.ts";
import { ReplayLimits } from "./core/replay-limits.ts";
import { chatFeature } from "./features/chat/index.ts";
import { cronFeature } from "./features/cron/index.ts";
import { presenceFeature } from "./features/presence/index.ts";
import { relayFeature } from "./features/relay/index.ts";
import { timersFeature } from "./features/timers/index.ts";
import { webFeature } from "./features/web/index.ts";
import { Metrics } from "./infra/metrics.ts";
import { createLogger, devDestination, type Logger } from "./log.ts";
import { DURABLE_TOPICS, openStorage } from "./main/storage.ts";
import { tickMarksOf } from "./main/tick-marks.ts";
import { healthFeature, runChecks } from "./ops/health.ts";
import { openapiFeature } from "./ops/openapi.ts";
import { sseEndpoint } from "./transports/sse/endpoint.ts";
import { SseTransport } from "./transports/sse/sse-transport.ts";
import { unifiedEndpoint } from "./transports/ws/unified.ts";
import { WsTransport } from "./transports/ws/ws-transport.ts";

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
}

export interface Tickwire {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  ctx: AppContext;
  /** The composed features (their route tables are what the server serves). */
  features: readonly Feature[];
  /** Graceful shutdown: health 503, WS closed 1001, SSE ended, server stopped, resources freed. */
  stop(): Promise<void>;
}

/**
 * Builds and starts a tickwire server from `config`. Used by the CLI entry and by tests. If a
 * step fails (say the database is unreachable after Redis connected), everything already
 * started is disposed, newest first, before the error is rethrown.
 */
export async function startTickwire(config: Config, opts: StartOptions = {}): Promise<Tickwire> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? createLogger(config.logLevel);
  const disposers: (() => unknown)[] = [];
  try {
    return await compose(config, clock, log, disposers);
  } catch (error) {
    await disposeAll(disposers, log);
    throw error;
  }
}

async function compose(config: Config, clock: Clock, log: Logger, disposers: (() => unknown)[]): Promise<Tickwire> {
  const healthChecks: AppContext["healthChecks"] = new Map([["redis", () => "off" as const]]);
  const queueDepths: AppContext["queueDepths"] = new Map();

  // Metrics exist only once the log does; the log's read counter looks them up when it counts.
  let metricsRef: Metrics | undefined;
  const { topicLog, hotState, database, redis, keyspace } = await openStorage(config, {
    clock,
    log,
    disposers,
    healthChecks,
    queueDepths,
    onHistoryRead: (source) => metricsRef?.replayReads.inc({ source }),
  });

  let draining = false;
  let sse: ReturnType<typeof sseEndpoint> | undefined;
  let ws: WsTransport | undefined;
  let timers: ReturnType<typeof timersFeature> | undefined;
  const metrics = new Metrics({
    wsConnections: () => ws?.count ?? 0,
    sseConnections: () => sse?.count ?? 0,
    queueDepths: () => Object.fromEntries([...queueDepths].map(([name, depth]) => [name, depth()])),
    outbox: async () => timers?.outboxStats(),
    // The same checks as `/health`; a dependency that is not configured ("off") is not reported.
    dependencies: async () => {
      const checks = await runChecks(ctx);
      return Object.fromEntries(Object.entries(checks).flatMap(([name, state]) => (state === "off" ? [] : [[name, state === "up"]])));
    },
  });
  metricsRef = metrics;
  const replayLimits = new ReplayLimits({
    rate: config.replayRate,
    burst: config.replayBurst,
    maxConcurrent: config.replayMaxConcurrent,
    now: () => clock.now(),
    onRefused: (reason) => metrics.replaysRefused.inc({ reason }),
  });
  // A resume from a tick's seq starts where the hub(s) stood when it went out (tick-marks.ts).
  const tickMarks = tickMarksOf(config, redis, keyspace, (root) => hub.lastDelivered(root), log);
  const hub: Hub = new Hub({
    resolveSince: (root, since) => tickMarks.resolve(root, since),
    replayLimits,
    log: topicLog,
    clock,
    metrics,
    durableRoots: DURABLE_TOPICS,
    onError: (err, where) => log.error({ err, where }, "hub delivery failed"),
  });
  disposers.push(() => hub.stop());
  const ticker = buildTicker(config, clock, metrics, log);
  const ctx: AppContext = { config, log, clock, hub, metrics, ticker, auth: await authOf(config, clock), publishers: new Map(), healthChecks, queueDepths };

  const quota = new ConnectionQuota(config.maxConnectionsPerAddress, () => metrics.limitRefusals.inc({ limit: "connections_per_address" }));
  // The transports, as equals: each registers with the hub and delivers in its own way.
  const sseTransport = new SseTransport((err, topic) => log.error({ err, topic }, "sse delivery failed"));
  hub.addTransport(sseTransport);
  ws = new WsTransport({
    replayer: hub,
    backpressureLimit: config.backpressureLimit,
    metrics,
    log,
    replayBudget: (sub) => replayLimits.budget(sub),
    writeDelayMs: config.writeDelayMs,
  });
  hub.addTransport(ws);
  sse = sseEndpoint(
    {
      hub,
      transport: sseTransport,
      auth: ctx.auth,
      clock,
      log,
      metrics,
      quota,
      maxTopics: config.maxTopicsPerConnection,
      onLimit: (limit) => metrics.limitRefusals.inc({ limit }),
      replayBudget: (sub) => replayLimits.budget(sub),
      position: (topic) => hub.position(topic),
    },
    { queueBytes: config.backpressureLimit, pingMs: config.ssePingMs, retryMs: 3000 },
  );

  const startedAt = clock.now();
  const wsTransport = ws;
  const sseStreams = sse;
  const presence = presenceFeature(ctx, { redis, keyPrefix: keyspace?.presence });
  const features: Feature[] = [
    healthFeature(ctx, { startedAt, wsConnections: () => wsTransport.count, sseConnections: () => sseStreams.count, draining: () => draining }),
    sseStreams,
    unifiedEndpoint({
      auth: ctx.auth,
      clock,
      log,
      publishers: ctx.publishers,
      maxTopics: config.maxTopicsPerConnection,
      publishesPerSecond: config.wsPublishesPerSecond,
      onLimit: (limit) => metrics.limitRefusals.inc({ limit }),
      position: (topic) => hub.position(topic),
      presence: (topic) => presence.snapshot(topic),
      announced: (topic) => presence.announces(topic),
    }),
    cronFeature(ctx, tickMarks),
    (timers = timersFeature(ctx, { database, hotState })),
    relayFeature(ctx),
    chatFeature(ctx),
    presence,
    webFeature(ctx),
  ];
  // Last, so that it describes every route above (and itself).
  features.push(openapiFeature(ctx, features));

  for (const feature of features) {
    await feature.start?.();
    if (feature.stop) disposers.push(() => feature.stop!());
  }
  const running: RunningServer = createServer(features, {
    port: config.port,
    hostname: config.host,
    allowedOrigins: config.allowedOrigins,
    backpressureLimit: config.backpressureLimit,
    reusePort: config.reusePort,
    log,
    metrics,
    ws,
    auth: ctx.auth,
    clock,
    opsPerSecond: config.wsOpsPerSecond,
    quota,
  });
  // On a failed start the server stops too; on shutdown `stop()` drains it first.
  disposers.push(() => running.server.stop(true));
  ticker.start();
  disposers.push(() => ticker.stop());

  const port = running.server.port!;
  const shownHost = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  // What to open, and how this instance runs: the first line a newcomer reads (dev logs print it first).
  const openHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;
  const sql = database.dialect === "sqlite" ? "sqlite" : "mysql";
  log.info(
    {
      port,
      host: config.host,
      url: `http://${openHost}:${port}/`,
      mode: redisTarget(config) ? `${sql}+redis` : sql === "sqlite" ? "embedded" : "mysql",
      auth: authConfigured(config) ? "on" : "off",
      env: config.appEnv,
      tickMs: config.tickMs,
      log: redisTarget(config) ? "redis" : database.dialect === "sqlite" ? "sqlite" : "memory",
      ...(redisTarget(config) ? { redis: redisTarget(config)!.mode, redisMinReplicas: config.redisMinReplicas } : {}),
    },
    "tickwire listening",
  );

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    ctx,
    features,
    stop() {
      stopping ??= (async () => {
        draining = true;
        if (config.shutdownDelayMs > 0) {
          log.info({ ms: config.shutdownDelayMs }, "shutting down: /health reports 503 before connections close");
          await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
        }
        log.info("shutting down: closing connections");
        sseStreams.closeAll();
        await running.drain(requestDrainMs(config.shutdownDelayMs));
        await disposeAll(disposers, log);
        log.info("shutdown complete");
      })();
      return stopping;
    },
  };
}

if (import.meta.main) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  // dev: the listening line first, human-readable on a terminal; test and prod: JSON as it comes.
  const log = createLogger(config.logLevel, config.appEnv === "dev" ? devDestination() : undefined);
  if (!authConfigured(config)) log.warn("JWT_SECRET is unset: authentication is OFF (acceptable in dev only)");
  if (config.reusePort && !redisTarget(config)) log.warn("REUSE_PORT without REDIS_URL: processes sharing the port will not share state or events");
  // A background failure must never take the server down: log it with context and carry on.
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (bug: a promise without a catch)"));
  let app: Tickwire;
  try {
    app = await startTickwire(config, { logger: log });
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown })?.code }, "startup failed");
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, "signal received");
    // A hung dependency must not keep the process alive past the drain budget.
    setTimeout(() => {
      log.error("shutdown took over 5 s; exiting anyway");
      process.exit(1);
    }, 5000).unref();
    app.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
