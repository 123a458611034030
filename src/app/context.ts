/**
 * What `main.ts` hands every feature: configuration, logging, time, the hub and the registries
 * through which features plug into shared transports (publishers for the in-band `publish` op,
 * health checks, queue depths).
 * @module
 */
import type { Config } from "../config.ts";
import type { Clock } from "../core/clock.ts";
import type { Hub } from "../core/hub.ts";
import type { Tick, Ticker } from "../core/ticker.ts";
import type { Metrics } from "../infra/metrics.ts";
import type { Logger } from "../log.ts";
import type { Auth } from "../auth/auth.ts";
import type { Principal } from "./feature.ts";

/** Handles `{"op":"publish","topic","data"}` for one topic; resolves with the stored seq. */
export type TopicPublisher = (data: unknown, principal: Principal | undefined) => Promise<{ seq: string }>;

/** A dependency check for `/health`: `true` when it answers, `"off"` when not configured. */
export type HealthCheck = () => boolean | "off" | Promise<boolean | "off">;

export interface AppContext {
  config: Config;
  log: Logger;
  clock: Clock;
  hub: Hub;
  metrics: Metrics;
  ticker: Ticker;
  /** Token checks for routes and upgrades (a no-op when `JWT_SECRET` is unset). */
  auth: Auth;
  /** Registers a listener run on every tick, in registration order; returns its remover. */
  onTick(listener: (tick: Tick) => void): () => void;
  /** Topics clients may publish to over WebSocket, and how. */
  publishers: Map<string, TopicPublisher>;
  /** Named dependency checks reported by `/health` (`db`, `redis`). */
  healthChecks: Map<string, HealthCheck>;
  /** Named bounded queues whose depth `/metrics` reports. */
  queueDepths: Map<string, () => number>;
}
