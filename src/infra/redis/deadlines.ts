/**
 * A deadline on every Redis command. node-redis's own `timeout` only covers a command still
 * waiting to be written: once it is on the socket, a Redis that stopped answering (SIGSTOP, a
 * partition without a reset) leaves it pending until the connection drops, which may be never.
 * So each reply is raced against its deadline here, with one timer for all commands in flight
 * rather than a timer each. A command past it is rejected; its late reply, if any, is ignored.
 * @module
 */

interface Pending {
  at: number;
  reject: (error: Error) => void;
}

export class Deadlines {
  readonly #ms: number;
  /** In the order they were sent, which is the order of their deadlines. */
  readonly #pending = new Set<Pending>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** `reply`, or a rejection if it has not settled within the deadline. */
  bound<T>(reply: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { at: performance.now() + this.#ms, reject };
      this.#pending.add(pending);
      this.#arm();
      reply.then(
        (value) => {
          this.#pending.delete(pending);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(pending);
          reject(error);
        },
      );
    });
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    // Checked a few times per deadline: a command is rejected at most a quarter of it late.
    this.#timer = setTimeout(() => this.#sweep(), Math.max(10, this.#ms / 4));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const pending of this.#pending) {
      if (pending.at > now) break;
      this.#pending.delete(pending);
      pending.reject(new Error(`redis: no answer within ${this.#ms} ms`));
    }
    if (this.#pending.size > 0) this.#arm();
  }
}
