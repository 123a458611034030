/**
 * Requests in flight on one connection, by `ref`: each is answered by the server's `ack` or
 * `error` frame with the same ref, or fails when it times out or the connection ends (its
 * outcome is then unknown, `outcome_unknown`: a publish is never retried, it could be stored
 * twice).
 * @module
 */
import { TickwireError } from "./subscription.ts";

interface Pending {
  resolve(frame: Record<string, unknown>): void;
  reject(error: TickwireError): void;
  timer: ReturnType<typeof setTimeout>;
  onAck: ((frame: Record<string, unknown>) => void) | undefined;
}

export class Requests {
  #next = 1;
  readonly #pending = new Map<string, Pending>();

  /**
   * Registers a request; returns its ref and the promise of its answer. `onAck` is called with an
   * `ack` answer at once, while the frame is handled: before any later frame, which a promise
   * callback may not be (a WebSocket may deliver several frames in one task).
   */
  open(timeoutMs: number, onTimeout: () => void, onAck?: (frame: Record<string, unknown>) => void): { ref: string; answer: Promise<Record<string, unknown>> } {
    const ref = `c${this.#next++}`;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        // The server may still carry it out (a publish stored late): as unknown as a lost connection.
        reject(new TickwireError("outcome_unknown", `no answer within ${timeoutMs} ms; the outcome is unknown`));
        onTimeout();
      }, timeoutMs);
      this.#pending.set(ref, { resolve, reject, timer, onAck });
    });
    return { ref, answer };
  }

  /** Settles the request `frame.ref` names; `false` if none does. */
  answer(frame: Record<string, unknown>): boolean {
    const ref = typeof frame.ref === "string" ? frame.ref : undefined;
    const pending = ref === undefined ? undefined : this.#pending.get(ref);
    if (!pending || ref === undefined) return false;
    this.#pending.delete(ref);
    clearTimeout(pending.timer);
    if (frame.op === "error") pending.reject(new TickwireError(String(frame.code ?? "error"), String(frame.message ?? "request failed")));
    else {
      pending.onAck?.(frame);
      pending.resolve(frame);
    }
    return true;
  }

  /** The connection ended: every request in flight fails. */
  failAll(reason: string): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new TickwireError("outcome_unknown", `connection lost before the answer (${reason}); the outcome is unknown`));
    }
    this.#pending.clear();
  }
}
