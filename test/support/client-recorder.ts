/**
 * What an application using `@tickwire/client` saw on one subscription: every message in
 * order, every `onRecovered`, every subscribe confirmation; and helpers that await them.
 * The acceptance rule of issue #20 is {@link checkDelivery}: every acknowledged message exactly
 * once, or an `onRecovered({ recovered: false })`; never a duplicate.
 */
import { expect } from "bun:test";
import type { RecoveryInfo, SubscribeOptions } from "../../packages/client/src/index.ts";
import { until } from "./until.ts";

export interface Recorder<F> {
  frames: F[];
  recovered: RecoveryInfo[];
  subscribed: number;
  errors: Error[];
  handlers: SubscribeOptions<F>;
  /** Resolves once `check` holds on the frames so far. */
  until(check: (frames: F[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the subscription has been confirmed `n` times in total. */
  subscribedAtLeast(n: number, timeoutMs?: number): Promise<void>;
}

export function recorder<F>(since?: string): Recorder<F> {
  const r: Recorder<F> = {
    frames: [],
    recovered: [],
    subscribed: 0,
    errors: [],
    handlers: {
      ...(since === undefined ? {} : { since }),
      onMessage: (f) => void r.frames.push(f),
      onRecovered: (info) => void r.recovered.push(info),
      onSubscribed: () => void r.subscribed++,
      onError: (e) => void r.errors.push(e),
    },
    until: (check, what, timeoutMs = 15_000) =>
      until(() => check(r.frames), { message: () => `${what}; got ${r.frames.length} frames, ${r.recovered.length} recovered`, timeoutMs }).then(() => {}),
    subscribedAtLeast: (n, timeoutMs = 15_000) => until(() => r.subscribed >= n, { message: `subscription confirmed ${n} times`, timeoutMs }).then(() => {}),
  };
  return r;
}

/**
 * Asserts issue #20's rule on what the application saw (`seen`, message keys in delivery order)
 * against what publishers were told was stored (`acked`): no key twice; and every acked key
 * seen, unless `onRecovered` was called.
 */
export function checkDelivery(seen: string[], acked: string[], recovered: RecoveryInfo[]): void {
  const dupes = seen.filter((k, i) => seen.indexOf(k) !== i);
  expect(dupes).toEqual([]);
  if (recovered.length === 0) {
    const missing = acked.filter((k) => !seen.includes(k));
    expect(missing).toEqual([]);
  } else {
    expect(recovered.every((r) => r.recovered === false)).toBe(true);
  }
}
