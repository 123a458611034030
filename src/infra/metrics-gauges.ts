/**
 * The gauges sampled when metrics are scraped: open connections, queue depths, dependency health
 * and resident memory, read from the server through {@link Gauges}. The counters and histograms
 * the code increments are `metrics.ts`.
 * @module
 */
import { Gauge, type Registry } from "prom-client";

export interface Gauges {
  wsConnections(): number;
  sseConnections(): number;
  queueDepths(): Record<string, number>;
  /** Configured dependencies (the `/health` checks: `db`, `redis`) → up. */
  dependencies(): Record<string, boolean> | Promise<Record<string, boolean>>;
  /** The timer outbox: unpublished events and the age of the oldest, in seconds. */
  outbox?(): Promise<{ depth: number; oldestSeconds: number } | undefined>;
}

/** Registers the scrape-time gauges on `registry`, each reading `gauges` when collected. */
export function registerGauges(registry: Registry, gauges: Gauges): void {
  const registers = [registry];
  // Both outbox gauges come from one read, shared by the two collects of one scrape.
  let outboxRead: Promise<{ depth: number; oldestSeconds: number } | undefined> | undefined;
  const outbox = () => {
    outboxRead ??= (gauges.outbox?.() ?? Promise.resolve(undefined)).catch(() => undefined).finally(() => setTimeout(() => (outboxRead = undefined), 0));
    return outboxRead;
  };
  new Gauge({
    name: "tickwire_timer_outbox_depth",
    help: "Timer events committed to the database and not yet published to the log",
    registers,
    async collect() {
      const read = await outbox();
      if (read) this.set(read.depth);
    },
  });
  new Gauge({
    name: "tickwire_timer_outbox_oldest_seconds",
    help: "Age of the oldest unpublished timer event (0 when none)",
    registers,
    async collect() {
      const read = await outbox();
      if (read) this.set(read.oldestSeconds);
    },
  });
  new Gauge({
    name: "tickwire_connections",
    help: "Open client connections by transport",
    labelNames: ["transport"],
    registers,
    collect() {
      this.set({ transport: "ws" }, gauges.wsConnections());
      this.set({ transport: "sse" }, gauges.sseConnections());
    },
  });
  new Gauge({
    name: "tickwire_queue_depth",
    help: "Items waiting in bounded queues",
    labelNames: ["queue"],
    registers,
    collect() {
      for (const [queue, depth] of Object.entries(gauges.queueDepths())) this.set({ queue }, depth);
    },
  });
  new Gauge({
    name: "tickwire_dependency_up",
    help: "1 when a dependency (db, redis) answers",
    labelNames: ["dependency"],
    registers,
    async collect() {
      for (const [dependency, up] of Object.entries(await gauges.dependencies())) this.set({ dependency }, up ? 1 : 0);
    },
  });
  new Gauge({
    name: "tickwire_process_resident_memory_bytes",
    help: "Resident set size",
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
}
