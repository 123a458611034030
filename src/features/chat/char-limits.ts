/**
 * Length limits in characters. JSON Schema's `maxLength` counts characters (code points), as
 * `/openapi.json` promises, but TypeBox's check counts UTF-16 units: 2049 emoji (4098 units)
 * would fail a `maxLength` of 4096. So a schema keeps its `maxLength` for the docs, the copy that
 * is checked leaves it out, and {@link longerThan} applies it in characters. A field stays
 * bounded in bytes (at most 4 per character).
 * @module
 */
import type { TObject, TSchema } from "@sinclair/typebox";

/** `schema` without the `maxLength` of its properties `fields` (a shallow copy). */
export function withoutMaxLength<T extends TObject>(schema: T, fields: readonly string[]): T {
  const properties: Record<string, TSchema> = { ...schema.properties };
  for (const field of fields) {
    const { maxLength: _, ...rest } = properties[field]!;
    properties[field] = rest as TSchema;
  }
  return { ...schema, properties };
}

/**
 * Whether `text` has more than `max` characters (a lone surrogate counts as one). Counting stops
 * past `max`, and a string of at most `max` UTF-16 units is never counted.
 */
export function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  if (text.length > 2 * max) return true;
  let chars = 0;
  for (const _ of text) if (++chars > max) return true;
  return false;
}
