/**
 * Hot state: the copy of every timer that instances read instead of the database. With
 * `REDIS_URL` it is one Redis hash per timer plus a set indexing them (`redis-hot-state.ts`), so
 * that every instance can read a timer another one changed; without Redis the service's
 * in-process map is the only copy and this is a no-op.
 *
 * Written after the database (the source of truth), so it may lag behind it but never leads.
 * @module
 */
import type { TimerState } from "./timer-state.ts";

export interface HotState {
  /** `true` when backed by a shared store (Redis). */
  readonly shared: boolean;
  save(timer: TimerState): Promise<void>;
  remove(id: number): Promise<void>;
  get(id: number): Promise<TimerState | undefined>;
  /** Every indexed timer, or `undefined` when there is no index yet (first start, flushed). */
  loadAll(): Promise<TimerState[] | undefined>;
  stop(): Promise<void>;
}

/** No shared hot state: the service's map is it. */
export const inProcessHotState: HotState = {
  shared: false,
  async save() {},
  async remove() {},
  async get() {
    return undefined;
  },
  async loadAll() {
    return undefined;
  },
  async stop() {},
};
