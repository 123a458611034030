/**
 * Message ids in the seed's form, `YYYYMMDDhhmmss.ffffff` (UTC, microseconds), plus a suffix
 * naming this process so that ids stay unique across instances. Within one process the
 * fractional part is bumped when two messages share a microsecond.
 * @module
 */

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

export class MessageIds {
  #lastMicros = 0;
  readonly #suffix: string;

  constructor(suffix = Math.random().toString(36).slice(2, 8)) {
    this.#suffix = suffix;
  }

  next(nowMs: number): string {
    let micros = Math.floor(nowMs * 1000);
    if (micros <= this.#lastMicros) micros = this.#lastMicros + 1;
    this.#lastMicros = micros;
    const d = new Date(Math.floor(micros / 1000));
    const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
    return `${stamp}.${pad(micros % 1_000_000, 6)}-${this.#suffix}`;
  }
}
