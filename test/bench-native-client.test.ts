/**
 * The benchmarks' C subscribers (bench/load/fanout/native-subscribers.c) count what the
 * JavaScript ones count: against a real tickwire server (started as the benchmarks start it),
 * every delivery arrives once, in order, over WebSocket and SSE, and latencies taken on the C
 * process's clock are plausible (the publisher's stamps were put on that clock). No timing claim:
 * the bound only catches a calibration off by seconds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runLoad } from "../bench/load/fanout/client.ts";
import { nativeSubscribersBinary } from "../bench/load/fanout/native-client.ts";
import { type LaunchedServer, launch } from "../bench/load/fanout/server.ts";

const compiler = Bun.which("cc") ?? Bun.which("gcc");

describe.skipIf(!compiler)("native subscribers of the fanout benchmarks", () => {
  let server: LaunchedServer;
  beforeAll(async () => {
    expect(await nativeSubscribersBinary()).toHaveProperty("path");
    server = await launch("embedded");
  }, 60_000);
  afterAll(() => server?.stop());

  for (const transport of ["ws", "sse"] as const) {
    test(`${transport}: every delivery once and in order, latencies on one clock`, async () => {
      const r = await runLoad({ url: server.url, transport, subscribers: 20, rate: 100, seconds: 1, warmupSeconds: 0.2, drainMs: 5000, client: "native" });
      expect(r.expectedDeliveries).toBe(100 * 20);
      expect({ lost: r.lost, disorder: r.duplicatesOrReordered, errors: r.publishErrors }).toEqual({ lost: 0, disorder: 0, errors: 0 });
      expect(r.deliveries).toBe(r.expectedDeliveries);
      expect(r.latencies.length).toBe(r.deliveries);
      expect(r.latencies[0]!).toBeGreaterThanOrEqual(-1);
      expect(r.latencies.at(-1)!).toBeLessThan(5000);
      expect(r.completions.length).toBe(100);
      expect(r.clientCpuMs).toBeGreaterThan(0);
    }, 60_000);
  }
});
