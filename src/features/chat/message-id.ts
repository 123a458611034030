/**
 * The seed's message id form, `YYYYMMDDhhmmss.ffffff`: a UTC instant to the microsecond
 * (`20240101120000.123456`). How ids stay unique and increasing: `message-ids.ts`.
 * @module
 */

const pad = (n: number, width = 2) => String(n).padStart(width, "0");
const ID_RE = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\.(\d{6})/;

/** `YYYYMMDDhhmmss.ffffff` of an instant in microseconds since the epoch (UTC). */
export function formatMessageId(micros: number): string {
  const d = new Date(Math.floor(micros / 1000));
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${stamp}.${pad(micros % 1_000_000, 6)}`;
}

/** The instant (µs) an id of that form names; `undefined` for any other string. */
export function parseMessageId(id: string): number | undefined {
  const m = ID_RE.exec(id);
  if (!m) return undefined;
  const [year, month, day, hours, minutes, seconds, micros] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hours, minutes, seconds);
  return Number.isNaN(ms) ? undefined : ms * 1000 + micros;
}
