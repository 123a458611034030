/**
 * One setting of the field table (its environment names, schema and rule wording) and the
 * parsers that turn an environment string into the schema's type.
 * @module
 */
import type { TSchema } from "@sinclair/typebox";

export interface Setting<S extends TSchema> {
  /** Environment variables read, first set wins. */
  env: readonly string[];
  schema: S;
  /** Human wording of the rule, used in the error line. */
  expected: string;
  /** Turns the raw string into the schema's type (before validation). */
  parse?: (raw: string) => unknown;
}

export const int = (raw: string): unknown => (/^-?\d+$/.test(raw.trim()) ? Number(raw) : raw);
export const list = (raw: string): unknown =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
export const seconds = (raw: string): unknown => {
  const m = /^(\d+)\s*([smhdw]?)$/.exec(raw.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2] || "s"]! : raw;
};
export const bool = (raw: string): unknown =>
  ({ 1: true, true: true, yes: true, on: true, 0: false, false: false, no: false, off: false })[raw.trim().toLowerCase()] ?? raw;
