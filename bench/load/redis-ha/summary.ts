/**
 * What the redis-ha benchmark reports per variant: medians across rounds of each round's own
 * percentiles (a round is one append run and one fanout run of the variant), and the median of
 * the per-round ratios to the baseline variant of the same round (`single` with
 * `REDIS_MIN_REPLICAS=0`), so that a round disturbed by the machine counts once for everyone.
 * A variant that could not run keeps its row, with the error instead of numbers.
 * @module
 */

import { median, percentile, printTable } from "../../support/report.ts";
import type { LoadResult } from "../fanout/client.ts";
import type { AppendResult } from "./append-load.ts";

/** One variant's measurements in one round. */
export interface RoundResult {
  append: AppendResult;
  fanout: LoadResult;
  /** Server CPU per delivery over the fanout phase, µs (warm-up included, connecting not). */
  serverCpuUsPerDelivery: number;
  /** CPU of the topology's data nodes over the append and fanout phases together, ms. */
  redisCpuMs: number;
  /** Redis `WAIT` calls over the same phases (0 with `REDIS_MIN_REPLICAS=0`). */
  waitCalls: number;
  /** Appends sent over those phases, warm-ups included: POSTs and WS publishes. */
  appends: number;
}

export interface VariantRun {
  id: string;
  topology: string;
  minReplicas: number;
  /** Set once the variant failed: its topology, its server or one of its rounds. */
  failed?: string;
  rounds: RoundResult[];
  /** The warm-up round (shorter, not counted in the medians). */
  warmUp?: RoundResult;
}

const q = percentile;
const ratioMedian = (runs: VariantRun, base: VariantRun | undefined, pick: (r: RoundResult) => number) => {
  if (!base || base.failed || runs.failed) return NaN;
  const n = Math.min(runs.rounds.length, base.rounds.length);
  return median(Array.from({ length: n }, (_, i) => pick(runs.rounds[i]!) / pick(base.rounds[i]!)).filter(Number.isFinite));
};

const appendP = (p: number) => (r: RoundResult) => q(r.append.latencies, p);
const fanoutP = (p: number) => (r: RoundResult) => q(r.fanout.latencies, p);

export function summarize(runs: VariantRun[], baselineId: string) {
  const base = runs.find((r) => r.id === baselineId);
  return runs.map((v) => {
    const rs = v.rounds;
    const med = (pick: (r: RoundResult) => number) => median(rs.map(pick));
    const failures: Record<string, number> = {};
    for (const r of rs) for (const [status, n] of Object.entries(r.append.failures)) failures[status] = (failures[status] ?? 0) + n;
    return {
      variant: v.id,
      topology: v.topology,
      minReplicas: v.minReplicas,
      failed: v.failed,
      rounds: rs.length,
      append: {
        p50Ms: med(appendP(0.5)),
        p99Ms: med(appendP(0.99)),
        perRoundP99Ms: rs.map(appendP(0.99)),
        requests: rs.reduce((n, r) => n + r.append.requests, 0),
        failures,
        firstFailure: rs.find((r) => r.append.firstFailure)?.append.firstFailure,
        p99RatioToBaseline: ratioMedian(v, base, appendP(0.99)),
      },
      fanout: {
        p50Ms: med(fanoutP(0.5)),
        p99Ms: med(fanoutP(0.99)),
        perRoundP99Ms: rs.map(fanoutP(0.99)),
        lost: rs.reduce((n, r) => n + r.fanout.lost, 0),
        expectedDeliveries: rs.reduce((n, r) => n + r.fanout.expectedDeliveries, 0),
        /** Deliveries of a message id at or below one the same subscriber already had, per round. */
        duplicatesOrReorderedPerRound: rs.map((r) => r.fanout.duplicatesOrReordered),
        /**
         * Measured messages not received exactly once by every subscriber, per round: with
         * duplicates or reordering above, 0 here means every subscriber got each message once, out
         * of order (the counts cannot tell a duplicate of one message from the loss of another).
         */
        inexactMessagesPerRound: rs.map((r) => r.fanout.messages - r.fanout.completions.length),
        publishErrors: rs.reduce((n, r) => n + r.fanout.publishErrors, 0),
        serverCpuUsPerDelivery: med((r) => r.serverCpuUsPerDelivery),
        p99RatioToBaseline: ratioMedian(v, base, fanoutP(0.99)),
        cpuRatioToBaseline: ratioMedian(v, base, (r) => r.serverCpuUsPerDelivery),
      },
      redisCpuMsPerRound: med((r) => r.redisCpuMs),
      warmUpRound: v.warmUp && {
        appendP99Ms: appendP(0.99)(v.warmUp),
        fanoutP99Ms: fanoutP(0.99)(v.warmUp),
        duplicatesOrReordered: v.warmUp.fanout.duplicatesOrReordered,
        inexactMessages: v.warmUp.fanout.messages - v.warmUp.fanout.completions.length,
      },
      /** Appends (POSTs and WS publishes, warm-ups included) per Redis `WAIT`, over every round. */
      appendsPerWait: (() => {
        const waits = rs.reduce((n, r) => n + r.waitCalls, 0);
        const appends = rs.reduce((n, r) => n + r.appends, 0);
        return waits ? appends / waits : NaN;
      })(),
    };
  });
}

export type Summary = ReturnType<typeof summarize>[number];

/** The spread of one variant's per-round p99s: what a ratio has to beat to mean anything. */
const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const ratio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : "");

/** The table the benchmark prints (and bench/README.md quotes). */
export function printSummary(rows: Summary[]): void {
  printTable(
    [
      "variant",
      "rounds",
      "append p50 ms",
      "append p99 ms",
      "append p99 min–max",
      "append p99 ratio",
      "append non-201",
      "fanout p50 ms",
      "fanout p99 ms",
      "fanout p99 min–max",
      "fanout p99 ratio",
      "lost",
      "dup/reord",
      "inexact msgs",
      "cpu µs/deliv",
      "cpu ratio",
      "redis cpu ms/round",
      "appends/WAIT",
      "status",
    ],
    rows.map((s) => {
      const status = s.failed ? (s.rounds > 0 ? `failed after ${s.rounds} round(s)` : "failed") : "ok";
      if (s.failed && s.rounds === 0) return [s.variant, s.rounds, ...Array(16).fill("-"), status];
      const non201 = Object.entries(s.append.failures)
        .map(([code, n]) => `${n}×${code}`)
        .join(" ");
      return [
        s.variant,
        s.rounds,
        s.append.p50Ms,
        s.append.p99Ms,
        range(s.append.perRoundP99Ms),
        ratio(s.append.p99RatioToBaseline),
        non201 || "0",
        s.fanout.p50Ms,
        s.fanout.p99Ms,
        range(s.fanout.perRoundP99Ms),
        ratio(s.fanout.p99RatioToBaseline),
        s.fanout.lost,
        s.fanout.duplicatesOrReorderedPerRound.reduce((a, b) => a + b, 0),
        s.fanout.inexactMessagesPerRound.reduce((a, b) => a + b, 0),
        s.fanout.serverCpuUsPerDelivery,
        ratio(s.fanout.cpuRatioToBaseline),
        Math.round(s.redisCpuMsPerRound),
        Number.isFinite(s.appendsPerWait) ? s.appendsPerWait.toFixed(1) : "no WAIT",
        status,
      ];
    }),
  );
  for (const s of rows) if (s.failed) console.log(`${s.variant}: failed: ${s.failed}`);
}
