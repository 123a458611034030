/**
 * Fail fast through a Sentinel failover. node-redis's Sentinel client, on its own, holds a
 * command while its master is unreachable and re-sends it to the next master it discovers
 * (seconds later, and possibly twice: once into the dying master, once into the new one). The
 * promise tickwire makes is the opposite: while there is no master, answer 503 at once, and
 * never re-send a write behind the caller's back.
 *
 * So the client is built with `maxCommandRediscovers: 0` (a command that fails is not retried)
 * and this gate closes on the first error of a master connection: until a probe (`PING`, which
 * makes the client ask the Sentinels again) answers from a master, every command is refused
 * without being sent. The probe repeats every `intervalMs`.
 * @module
 */

export class SentinelGate {
  #up = true;
  #closed = false;
  readonly #probe: () => Promise<unknown>;
  readonly #intervalMs: number;
  readonly #onUp: () => void;

  constructor(probe: () => Promise<unknown>, onUp: () => void = () => {}, intervalMs = 100) {
    this.#probe = probe;
    this.#onUp = onUp;
    this.#intervalMs = intervalMs;
  }

  get up(): boolean {
    return this.#up && !this.#closed;
  }

  /** The master connection failed: refuse commands until a probe gets through. */
  down(): void {
    if (!this.#up || this.#closed) return;
    this.#up = false;
    void this.#reopen();
  }

  close(): void {
    this.#closed = true;
  }

  async #reopen(): Promise<void> {
    while (!this.#closed) {
      await Bun.sleep(this.#intervalMs);
      try {
        await this.#probe();
        this.#up = true;
        this.#onUp();
        return;
      } catch {
        // Still no master: try again.
      }
    }
  }
}
