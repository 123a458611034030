/**
 * A dependency-free SVG line chart: a few series on one shared y scale with "nice" gridlines.
 * It scales with its container (viewBox), so it reads the same on a phone and a desktop.
 * @module
 */

const NS = "http://www.w3.org/2000/svg";
const W = 320;
const H = 120;
const PAD = { left: 34, right: 6, top: 8, bottom: 14 };

function svg(tag, attrs) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** The smallest of 1, 2, 5 × 10^k at or above `value`. */
function niceCeil(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * @param {{label: string, colour: string, points: number[]}[]} lines newest point last
 * @param {{slots: number, title: string, unit?: string, floor?: number}} opts `slots`: points
 *   across the full width; `unit` is named in the accessible label (default "per second");
 *   `floor`: the scale reaches at least this, so small noise does not fill the chart (default 1)
 */
export function lineChart(lines, opts) {
  const max = niceCeil(Math.max(opts.floor ?? 1, ...lines.flatMap((l) => l.points)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i, n) => PAD.left + innerW - (n - 1 - i) * (innerW / Math.max(1, opts.slots - 1));
  const y = (v) => PAD.top + innerH - (v / max) * innerH;

  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": `${opts.title}; scale 0 to ${max} ${opts.unit ?? "per second"}`,
    class: "line-chart",
  });
  const title = svg("title", {});
  title.textContent = opts.title;
  root.append(title);
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(value), y2: y(value), class: "grid" }));
    const label = svg("text", { x: PAD.left - 4, y: y(value) + 3, "text-anchor": "end", class: "tick" });
    label.textContent = value >= 1000 ? `${value / 1000}k` : String(value);
    root.append(label);
  }
  const axis = svg("text", { x: W - PAD.right, y: H - 2, "text-anchor": "end", class: "tick" });
  axis.textContent = "now";
  root.append(axis);
  for (const line of lines) {
    const n = line.points.length;
    if (n === 0) continue;
    const points = line.points.map((v, i) => `${x(i, n).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    root.append(
      svg("polyline", { points, fill: "none", style: `stroke: ${line.colour}`, "stroke-width": 1.8, "stroke-linejoin": "round", "data-topic": line.label }),
    );
    // The newest value as a dot, so a series is visible from its first point.
    root.append(svg("circle", { cx: x(n - 1, n), cy: y(line.points[n - 1]), r: 2.4, style: `fill: ${line.colour}` }));
  }
  return root;
}
