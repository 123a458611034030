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
}

/** Registers the scrape-time gauges on `registry`, each reading `gauges` when collected. */
export function registerGauges(registry: Registry, gauges: Gauges): void {
  const registers = [registry];
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
