/**
 * The relay's bounded ingest: appends manager messages to the `relay` log with a cap on the
 * appends in flight on this instance (by count and by bytes). Past the cap a message is refused
 * with `overloaded` before anything is stored, so a message is either acknowledged after the log
 * has made it durable, or refused: nothing is accepted and then lost.
 * @module
 */
import type { LogEntry } from "../../core/topic-log.ts";
import { LogUnavailableError } from "../../core/topic-log.ts";

/** Appends in flight per instance. 1024 covers a manager pipelining at full speed over Redis. */
export const RELAY_MAX_IN_FLIGHT = 1024;
/** Bytes of message text in flight per instance: caps memory at 16 MiB, not 1024 × 64 KiB. */
export const RELAY_MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

export type IngestCode = "overloaded" | "unavailable" | "internal";

/** What happened to one message; `submit` never rejects. */
export type IngestOutcome = { ok: true; seq: string } | { ok: false; code: IngestCode; message: string };

export interface RelayIngestOptions {
  /** Stores one message durably (the hub's `append` on `relay`). */
  append(message: string): Promise<LogEntry>;
  maxInFlight?: number;
  maxInFlightBytes?: number;
  /** Reports appends that failed for a reason other than {@link LogUnavailableError}. */
  onError?(error: unknown): void;
}

export class RelayIngest {
  readonly maxInFlight: number;
  readonly maxInFlightBytes: number;
  #opts: RelayIngestOptions;
  #inFlight = 0;
  #inFlightBytes = 0;

  constructor(opts: RelayIngestOptions) {
    this.#opts = opts;
    this.maxInFlight = opts.maxInFlight ?? RELAY_MAX_IN_FLIGHT;
    this.maxInFlightBytes = opts.maxInFlightBytes ?? RELAY_MAX_IN_FLIGHT_BYTES;
  }

  /** Appends started and not yet settled (reported as the `relay_ingest` queue depth). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Starts appending `message` at once (so the log receives messages in submission order) and
   * resolves with its seq, or with why it was not stored.
   */
  submit(message: string): Promise<IngestOutcome> {
    // UTF-16 length is close enough for a memory bound and costs nothing to read.
    const size = message.length;
    if (this.#inFlight >= this.maxInFlight || (this.#inFlight > 0 && this.#inFlightBytes + size > this.maxInFlightBytes)) {
      return Promise.resolve({
        ok: false,
        code: "overloaded",
        message: `relay ingest is full (${this.#inFlight} appends in flight); not stored, retry shortly`,
      });
    }
    this.#inFlight++;
    this.#inFlightBytes += size;
    const settle = () => {
      this.#inFlight--;
      this.#inFlightBytes -= size;
    };
    let appended: Promise<LogEntry>;
    try {
      appended = this.#opts.append(message);
    } catch (error) {
      appended = Promise.reject(error);
    }
    return appended.then(
      (entry): IngestOutcome => {
        settle();
        return { ok: true, seq: entry.seq };
      },
      (error: unknown): IngestOutcome => {
        settle();
        if (error instanceof LogUnavailableError) {
          // Refused before it was sent (overloaded) it is not stored; otherwise it may be (a timeout).
          const stored = error.reason === "overloaded" ? "not stored" : "it may be stored after all (a retry can duplicate it)";
          return { ok: false, code: error.reason, message: `relay log ${error.reason}: ${error.message}; ${stored}, retry shortly` };
        }
        this.#opts.onError?.(error);
        return { ok: false, code: "internal", message: "relay append failed; not stored" };
      },
    );
  }
}
