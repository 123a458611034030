/**
 * Open connections per client address, WebSocket and SSE together, on one instance: past
 * `max` a new connection is refused. `max` 0 turns the limit off (behind a proxy every client
 * shares the proxy's address). Only addresses with a connection are kept.
 * @module
 */
export class ConnectionQuota {
  readonly #open = new Map<string, number>();

  /** `onRefused` counts each connection refused. */
  constructor(
    readonly max: number,
    private readonly onRefused?: () => void,
  ) {}

  /** Counts a connection from `address`; `false` (nothing counted) when it is at the limit. */
  acquire(address: string): boolean {
    if (this.max === 0) return true;
    const n = this.#open.get(address) ?? 0;
    if (n >= this.max) {
      this.onRefused?.();
      return false;
    }
    this.#open.set(address, n + 1);
    return true;
  }

  /** Forgets one connection of `address`. */
  release(address: string): void {
    if (this.max === 0) return;
    const n = this.#open.get(address) ?? 0;
    if (n <= 1) this.#open.delete(address);
    else this.#open.set(address, n - 1);
  }

  /** Addresses holding a connection. */
  get addresses(): number {
    return this.#open.size;
  }
}
