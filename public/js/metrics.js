/**
 * The server panel: polls `/metrics` every {@link POLL_MS}, shows open connections by transport,
 * totals, and a chart of deliveries per second by topic, computed from successive counter
 * readings (a counter that went down means the server restarted: that sample starts over).
 * @module
 */
import { getToken } from "./auth.js";
import { byId, setBadge } from "./dom.js";
import { lineChart } from "./line-chart.js";
import { parsePrometheus, sumBy } from "./prometheus.js";

export const POLL_MS = 1000;
/** Ninety seconds of samples. */
const KEEP = 90;
const PALETTE = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#dc2626", "#65a30d"];

export function startMetrics() {
  const out = {
    ws: byId("m-ws"),
    sse: byId("m-sse"),
    published: byId("m-published"),
    rate: byId("m-rate"),
    dropped: byId("m-dropped"),
    chart: byId("m-chart"),
    legend: byId("m-legend"),
    badge: byId("metrics-status"),
  };
  /** topic → deliveries/s per sample, oldest first. */
  const series = new Map();
  const colours = new Map();
  let previous;
  let samples = 0;

  const colourOf = (topic) => {
    if (!colours.has(topic)) colours.set(topic, PALETTE[colours.size % PALETTE.length]);
    return colours.get(topic);
  };

  async function poll() {
    let text;
    try {
      // /metrics is open today; the token goes along anyway in case a deployment guards it.
      const token = getToken();
      const res = await fetch("/metrics", { cache: "no-store", headers: token ? { Authorization: `Bearer ${token}` } : {} });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch {
      setBadge(out.badge, "closed", "unreachable");
      return;
    }
    setBadge(out.badge, "live", "live");
    const parsed = parsePrometheus(text);
    const conns = sumBy(parsed, "tickwire_connections", "transport");
    const delivered = sumBy(parsed, "tickwire_events_delivered_total", "topic");
    const published = sumBy(parsed, "tickwire_events_published_total").all ?? 0;
    const dropped = sumBy(parsed, "tickwire_events_dropped_total").all ?? 0;
    const now = performance.now();

    out.ws.textContent = String(conns.ws ?? 0);
    out.sse.textContent = String(conns.sse ?? 0);
    out.published.textContent = published.toLocaleString();
    out.dropped.textContent = dropped.toLocaleString();

    if (previous) {
      const seconds = (now - previous.at) / 1000;
      let total = 0;
      const topics = new Set([...series.keys(), ...Object.keys(delivered)]);
      for (const topic of topics) {
        const before = previous.delivered[topic] ?? 0;
        const after = delivered[topic] ?? 0;
        const rate = after >= before ? (after - before) / seconds : after / seconds;
        total += rate;
        if (!series.has(topic)) series.set(topic, new Array(samples).fill(0));
        const points = series.get(topic);
        points.push(rate);
        if (points.length > KEEP) points.shift();
      }
      samples = Math.min(samples + 1, KEEP);
      out.rate.textContent = total < 10 ? total.toFixed(1) : Math.round(total).toLocaleString();
    }
    drawChart();
    previous = { at: now, delivered };
    out.chart.dataset.samples = String(samples);
  }

  function drawChart() {
    const lines = [...series].map(([topic, points]) => ({ label: topic, colour: colourOf(topic), points }));
    out.chart.replaceChildren(lineChart(lines, { slots: KEEP, title: "Deliveries per second by topic" }));
    out.legend.replaceChildren(
      ...lines.map((line) => {
        const item = document.createElement("span");
        item.className = "key";
        item.style.setProperty("--key", line.colour);
        const last = line.points.at(-1) ?? 0;
        item.textContent = `${line.label} ${last < 10 ? last.toFixed(1) : Math.round(last)}/s`;
        return item;
      }),
    );
  }

  poll();
  const timer = setInterval(() => {
    if (!document.hidden) poll();
  }, POLL_MS);
  return { stop: () => clearInterval(timer), poll };
}
