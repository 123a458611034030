/**
 * A hand-written SVG line chart, log-log, for a measure against a load (the capacity ramps: p99
 * latency against the offered rate, one line per variant, a dashed line at the pass bound).
 * Same look as svg-chart.ts; points that are off the chart's top are drawn on its edge.
 * @module
 */

import { COLORS, esc, frame, H, M, W } from "./svg-chart.ts";

const num = (v: number) => (Number.isInteger(v) ? String(v) : v >= 1 ? v.toFixed(1) : v.toPrecision(2));

export interface LineSeries {
  name: string;
  /** [x, y] points; the line joins them in ascending x. */
  points: [number, number][];
  /** More [x, y] samples drawn as hollow dots only (e.g. every run, when the line is their median). */
  samples?: [number, number][];
}

/** Decades from ⌊log10 lo⌋ to ⌈log10 hi⌉, with 2 and 5 in between when there are few. */
function ticks(lo: number, hi: number): { d0: number; d1: number; values: number[] } {
  const d0 = Math.floor(Math.log10(lo));
  const d1 = Math.max(d0 + 1, Math.ceil(Math.log10(hi)));
  const values: number[] = [];
  for (let d = d0; d <= d1; d++) for (const m of d1 - d0 <= 2 ? [1, 2, 5] : [1]) if (m * 10 ** d <= 10 ** d1) values.push(m * 10 ** d);
  return { d0, d1, values };
}

/** One line per series on log x and log y axes; `hline` draws a labelled dashed bound. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: LineSeries[], hline?: { y: number; label: string }): string {
  const pts = series.flatMap((s) => [...s.points, ...(s.samples ?? [])]).filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(y));
  const xs = ticks(Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0])));
  const ys = ticks(Math.min(...pts.map((p) => p[1]), hline?.y ?? Infinity), Math.max(...pts.map((p) => p[1]), hline?.y ?? 0));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (v: number) => M.left + ((Math.log10(v) - xs.d0) / (xs.d1 - xs.d0)) * pw;
  const sy = (v: number) => M.top + (1 - (Math.log10(Math.min(Math.max(v, 10 ** ys.d0), 10 ** ys.d1)) - ys.d0) / (ys.d1 - ys.d0)) * ph;
  const body: string[] = [];
  for (const v of xs.values) {
    body.push(
      `<line x1="${sx(v)}" y1="${M.top}" x2="${sx(v)}" y2="${M.top + ph}" stroke="#ddd"/><text x="${sx(v)}" y="${M.top + ph + 16}" text-anchor="middle">${num(v)}</text>`,
    );
  }
  for (const v of ys.values) {
    body.push(
      `<line x1="${M.left}" y1="${sy(v)}" x2="${M.left + pw}" y2="${sy(v)}" stroke="#eee"/><text x="${M.left - 6}" y="${sy(v) + 4}" text-anchor="end">${num(v)}</text>`,
    );
  }
  if (hline) {
    const y = sy(hline.y);
    body.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#999" stroke-dasharray="4 3"/><text x="${M.left + 4}" y="${y - 4}" font-size="10" fill="#666">${esc(hline.label)}</text>`,
    );
  }
  body.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  body.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)} (log scale)</text>`);
  body.push(`<text x="16" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(yLabel)} (log scale)</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const sorted = s.points.filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    if (sorted.length === 0) return;
    const path = sorted.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
    body.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${path}"/>`);
    for (const [x, y] of sorted) body.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    for (const [x, y] of (s.samples ?? []).filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(y)))
      body.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="none" stroke="${color}" stroke-width="1"/>`);
  });
  return frame(
    title,
    body,
    series.map((s) => s.name),
  );
}
