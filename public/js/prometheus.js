/**
 * A reader for the Prometheus text format, enough for tickwire's own `/metrics`: one sample per
 * line, `name{label="value",...} number`, comments skipped.
 * @module
 */

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** @returns {{name: string, labels: Record<string,string>, value: number}[]} */
export function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(LABEL)) labels[k] = v.replace(/\\(.)/g, "$1");
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sum of `name`'s samples, grouped by one label (`undefined` key sums everything). */
export function sumBy(samples, name, label) {
  const out = {};
  for (const s of samples) {
    if (s.name !== name || !Number.isFinite(s.value)) continue;
    const key = label ? (s.labels[label] ?? "") : "all";
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}
