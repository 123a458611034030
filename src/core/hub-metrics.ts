/**
 * The counters the hub and the transports report to; implemented over prom-client outside the
 * core (`infra/metrics.ts`).
 * @module
 */

/** Why an event did not reach a subscriber. */
export type DropReason = "deadline" | "backpressure" | "overflow" | "no_subscribers";

export interface HubMetrics {
  published(family: string): void;
  delivered(family: string, count: number): void;
  dropped(family: string, reason: DropReason, count: number): void;
  /** Seconds from the event's creation to its hand-off to the transports. */
  fanoutLatency(seconds: number): void;
}

export const noopHubMetrics: HubMetrics = {
  published() {},
  delivered() {},
  dropped() {},
  fanoutLatency() {},
};
