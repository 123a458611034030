/**
 * Hand-written SVG charts for benchmark results, so a run leaves a picture a person can open in
 * a browser without a chart library: latency CDFs (log-scale x) and grouped bars.
 * @module
 */

export const COLORS = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d", "#ff9da6"];
export const W = 840;
export const H = 420;
export const M = { top: 40, right: 260, bottom: 50, left: 64 };

export const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const num = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

/** The chart's SVG document: title, body elements and a legend of `legend` names, in series colours. */
export function frame(title: string, body: string[], legend: string[]): string {
  const items = legend
    .map((name, i) => {
      const y = M.top + 10 + i * 20;
      return `<rect x="${W - M.right + 16}" y="${y - 9}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${W - M.right + 34}" y="${y + 1}">${esc(name)}</text>`;
    })
    .join("");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="600">${esc(title)}</text>`,
    ...body,
    items,
    `</svg>`,
  ].join("\n");
}

export interface CdfSeries {
  name: string;
  /** Ascending samples (ms). */
  sorted: ArrayLike<number>;
}

/**
 * A cumulative distribution per series on a log-scale x axis (latency tails stay readable), with
 * the p99 drawn as a dashed line.
 */
export function cdfChart(title: string, xLabel: string, series: CdfSeries[]): string {
  const all = series.filter((s) => s.sorted.length > 0);
  const lo = Math.max(1e-3, Math.min(...all.map((s) => s.sorted[0]!)));
  const hi = Math.max(lo * 10, ...all.map((s) => s.sorted[s.sorted.length - 1]!));
  const x0 = Math.floor(Math.log10(lo));
  const x1 = Math.ceil(Math.log10(hi));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (v: number) => M.left + ((Math.log10(Math.max(v, 10 ** x0)) - x0) / (x1 - x0)) * pw;
  const sy = (q: number) => M.top + (1 - q) * ph;
  const body: string[] = [];
  for (let d = x0; d <= x1; d++) {
    const x = sx(10 ** d);
    body.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#ddd"/><text x="${x}" y="${M.top + ph + 16}" text-anchor="middle">${num(10 ** d)}</text>`,
    );
  }
  for (const q of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
    const y = sy(q);
    body.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#eee"/><text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${q}</text>`);
  }
  // p99 is where the targets are: a dashed line labelled inside the plot, clear of the axis.
  body.push(
    `<line x1="${M.left}" y1="${sy(0.99)}" x2="${M.left + pw}" y2="${sy(0.99)}" stroke="#999" stroke-dasharray="4 3"/><text x="${M.left + 4}" y="${sy(0.99) + 12}" font-size="10" fill="#666">p99</text>`,
  );
  body.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  body.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)} (log scale)</text>`);
  body.push(`<text x="16" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">fraction of samples ≤ x</text>`);
  series.forEach((s, i) => {
    const n = s.sorted.length;
    if (n === 0) return;
    const points: string[] = [];
    const steps = Math.min(n, 400);
    for (let k = 0; k < steps; k++) {
      // Denser near the tail, where the interesting part of a latency CDF is.
      const q = 1 - (1 - k / (steps - 1)) ** 2;
      const idx = Math.min(n - 1, Math.round(q * (n - 1)));
      points.push(`${sx(s.sorted[idx]!).toFixed(1)},${sy((idx + 1) / n).toFixed(1)}`);
    }
    body.push(`<polyline fill="none" stroke-width="2" stroke="${COLORS[i % COLORS.length]}" points="${points.join(" ")}"/>`);
  });
  return frame(
    title,
    body,
    series.map((s) => s.name),
  );
}

export interface BarGroup {
  label: string;
  /** One value per series name, same order as `seriesNames`. */
  values: number[];
}

/** Grouped bars (e.g. p50/p90/p99 per variant), linear y axis starting at 0. */
export function barChart(title: string, yLabel: string, seriesNames: string[], groups: BarGroup[]): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.values.filter(Number.isFinite)));
  const step = 10 ** Math.floor(Math.log10(max));
  const top = Math.ceil(max / step) * step;
  const sy = (v: number) => M.top + (1 - v / top) * ph;
  const body: string[] = [];
  for (let v = 0; v <= top + 1e-12; v += top / 5) {
    body.push(
      `<line x1="${M.left}" y1="${sy(v)}" x2="${M.left + pw}" y2="${sy(v)}" stroke="#eee"/><text x="${M.left - 6}" y="${sy(v) + 4}" text-anchor="end">${num(v)}</text>`,
    );
  }
  const gw = pw / Math.max(1, groups.length);
  const bw = (gw * 0.8) / Math.max(1, seriesNames.length);
  groups.forEach((g, gi) => {
    const gx = M.left + gi * gw + gw * 0.1;
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v)) return;
      const x = gx + si * bw;
      body.push(
        `<rect x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(M.top + ph - sy(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${g.label} ${seriesNames[si]}: ${num(v)}`)}</title></rect>`,
      );
      body.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(sy(v) - 3).toFixed(1)}" text-anchor="middle" font-size="10">${num(v)}</text>`);
    });
    body.push(`<text x="${M.left + gi * gw + gw / 2}" y="${M.top + ph + 16}" text-anchor="middle">${esc(g.label)}</text>`);
  });
  body.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  body.push(`<text x="16" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(yLabel)}</text>`);
  return frame(title, body, seriesNames);
}

/** Writes `bench/results/<name>.svg`. */
export async function writeSvg(name: string, svg: string): Promise<string> {
  const path = `${import.meta.dir}/../results/${name}.svg`;
  await Bun.write(path, `${svg}\n`);
  return path;
}
