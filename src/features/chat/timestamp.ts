/**
 * The instants `POST /notify` accepts: ISO-8601 date and time to the second, an optional
 * fraction and a zone, as the seed's message service writes them (`2024-01-01T12:00:00Z`,
 * `2024-01-01T12:00:00.123456+02:00`). A zone is required: a local time would name a different
 * instant for every reader.
 * @module
 */

/** The shape, for the schema (and so `/openapi.json`); {@link isCalendarDate} does the rest. */
export const ISO_TIMESTAMP_PATTERN =
  "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$";

/** `true` when the date part of a timestamp of that shape exists (no 31 April, 29 February only in leap years). */
export function isCalendarDate(timestamp: string): boolean {
  const [year, month, day] = timestamp.slice(0, 10).split("-").map(Number) as [number, number, number];
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
