/**
 * What `main.ts` hands every feature: configuration, logging, time, the hub and the registries
 * through which features plug into shared transports (publishers for the in-band `publish` op,
 * health checks, queue depths). Every connection to the outside world is opened by `main.ts`.
 * @module
 */
import type { Auth } from "../auth/auth.ts";
import type { Config } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Hub } from "../core/hub.ts";
import type { Ticker } from "../core/ticker.ts";
import type { Metrics } from "../infra/metrics.ts";
import type { Logger } from "../log.ts";
import type { TopicPublisher } from "../transports/ws/unified.ts";

export type { TopicPublisher };

/** A dependency check for `/health`: `true` when it answers, `"off"` when not configured. */
export type HealthCheck = () => boolean | "off" | Promise<boolean | "off">;

export interface AppContext {
  config: Config;
  log: Logger;
  clock: Clock;
  hub: Hub;
  metrics: Metrics;
  /** The tick source; features add their per-tick work with `ticker.onTick`. */
  ticker: Ticker;
  /** Token checks for routes and upgrades (a no-op when `JWT_SECRET` is unset). */
  auth: Auth;
  /** Topics clients may publish to over WebSocket, and how. */
  publishers: Map<string, TopicPublisher>;
  /** Named dependency checks reported by `/health` (`db`, `redis`). */
  healthChecks: Map<string, HealthCheck>;
  /** Named bounded queues whose depth `/metrics` reports. */
  queueDepths: Map<string, () => number>;
}
