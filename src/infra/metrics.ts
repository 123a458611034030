/**
 * Prometheus metrics (prom-client), one registry per server so that several servers in one test
 * process never share counters. Topic labels are topic families (`timer`, not `timer:42`) to keep
 * cardinality bounded. This file holds the counters and histograms the code increments (the
 * {@link HubMetrics} the hub reports to among them); the gauges read at scrape time are
 * `metrics-gauges.ts`.
 * @module
 */
import { Counter, Histogram, Registry } from "prom-client";
import type { DropReason, HubMetrics } from "../core/hub-metrics.ts";
import { type Gauges, registerGauges } from "./metrics-gauges.ts";

export type { Gauges } from "./metrics-gauges.ts";

export class Metrics implements HubMetrics {
  readonly registry = new Registry();
  /**
   * The two per-event counters are summed in plain maps and handed to prom-client when scraped:
   * a labelled `inc()` costs about 0.3 µs, and a tick of 10 000 timers makes 30 000 of them.
   */
  readonly #pendingPublished = new Map<string, number>();
  readonly #pendingDelivered = new Map<string, number>();
  readonly #dropped: Counter<"topic" | "reason">;
  readonly #fanout: Histogram;
  readonly tickLateness: Histogram;
  readonly ticksSkipped: Counter;
  readonly httpRequests: Counter<"route" | "method" | "status">;
  readonly wsMessages: Counter<"kind" | "outcome">;
  readonly outboxRetries: Counter;
  readonly replayReads: Counter<"source">;
  readonly replaysRefused: Counter<"reason">;
  readonly limitRefusals: Counter<"limit">;

  constructor(gauges: Gauges) {
    const registers = [this.registry];
    const flush = (pending: Map<string, number>) =>
      function (this: Counter<"topic">) {
        for (const [topic, n] of pending) this.inc({ topic }, n);
        pending.clear();
      };
    // Registered with the registry, which is all they need: `collect` reads the pending sums.
    new Counter({
      name: "tickwire_events_published_total",
      help: "Events published, by topic family",
      labelNames: ["topic"],
      registers,
      collect: flush(this.#pendingPublished),
    });
    new Counter({
      name: "tickwire_events_delivered_total",
      help: "Event deliveries handed to subscribers, by topic family",
      labelNames: ["topic"],
      registers,
      collect: flush(this.#pendingDelivered),
    });
    this.#dropped = new Counter({
      name: "tickwire_events_dropped_total",
      help: "Events dropped, by topic family and reason",
      labelNames: ["topic", "reason"],
      registers,
    });
    this.#fanout = new Histogram({
      name: "tickwire_fanout_latency_seconds",
      help: "Time from an event's creation to its hand-off to all local subscribers",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.tickLateness = new Histogram({
      name: "tickwire_tick_lateness_seconds",
      help: "How late each tick ran after its wall-clock boundary",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    });
    this.ticksSkipped = new Counter({ name: "tickwire_ticks_skipped_total", help: "Tick boundaries skipped because the process woke too late", registers });
    this.httpRequests = new Counter({
      name: "tickwire_http_requests_total",
      help: "HTTP requests by route, method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.wsMessages = new Counter({
      name: "tickwire_ws_messages_total",
      help: "Client WebSocket messages by endpoint kind and outcome",
      labelNames: ["kind", "outcome"],
      registers,
    });
    this.outboxRetries = new Counter({
      name: "tickwire_timer_outbox_publish_retries_total",
      help: "Timer outbox events the log refused, kept and published again later",
      registers,
    });
    this.replayReads = new Counter({
      name: "tickwire_replay_reads_total",
      help: "History reads for replays, by where they were served from (memory window, redis)",
      labelNames: ["source"],
      registers,
    });
    this.replaysRefused = new Counter({
      name: "tickwire_replays_refused_total",
      help: "Replays refused by a limit, by reason (rate_limited, replay_busy)",
      labelNames: ["reason"],
      registers,
    });
    this.limitRefusals = new Counter({
      name: "tickwire_limit_refusals_total",
      help: "Client actions refused by a limit, by limit (ws_ops, ws_publishes, topics_per_connection, timers_per_session, timers_total, idempotency_keys_per_sub, presence_joins, connections_per_address)",
      labelNames: ["limit"],
      registers,
    });
    registerGauges(this.registry, gauges);
  }

  published(family: string): void {
    this.#pendingPublished.set(family, (this.#pendingPublished.get(family) ?? 0) + 1);
  }

  delivered(family: string, count: number): void {
    this.#pendingDelivered.set(family, (this.#pendingDelivered.get(family) ?? 0) + count);
  }

  dropped(family: string, reason: DropReason, count: number): void {
    this.#dropped.inc({ topic: family, reason }, count);
  }

  fanoutLatency(seconds: number): void {
    this.#fanout.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
