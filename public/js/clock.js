/**
 * The cron clock: `cron` on `/ws` through `@tickwire/client` (which reconnects by itself). Each
 * `cron_tick` frame carries the ISO time of the tick's wall-clock boundary; the face shows it,
 * and "arrived after boundary" is how long the frame took from that boundary to this page
 * (server lateness + network + clock skew).
 * @module
 */
import { byId, setBadge } from "./dom.js";
import { lineChart } from "./line-chart.js";
import { pageClient, showState } from "./live-client.js";

const KEEP = 60;

export function startClock() {
  const face = byId("clock-time");
  const ticks = byId("clock-ticks");
  const lag = byId("clock-lag");
  const seqOut = byId("clock-seq");
  const badge = byId("clock-status");
  const chart = byId("clock-chart");
  /** Arrival delay of the last {@link KEEP} ticks, in ms. */
  const delays = [];
  let count = 0;
  const draw = () =>
    chart.replaceChildren(
      lineChart([{ label: "arrival", colour: "var(--accent)", points: delays }], {
        slots: KEEP,
        title: "Tick arrival delay in milliseconds",
        unit: "ms",
        floor: 10,
      }),
    );
  draw();

  function onTick(frame) {
    if (frame.event !== "cron_tick" || typeof frame.message !== "string") return;
    const at = new Date(frame.message);
    if (Number.isNaN(at.getTime())) return;
    count += 1;
    face.textContent = at.toISOString().slice(11, 19);
    face.dateTime = frame.message;
    face.dataset.ticks = String(count);
    ticks.textContent = String(count);
    const delay = Math.max(0, Date.now() - at.getTime());
    lag.textContent = `${delay} ms`;
    delays.push(delay);
    if (delays.length > KEEP) delays.shift();
    draw();
    seqOut.textContent = frame.seq ?? "–";
  }

  let client;
  const start = () => {
    client = pageClient();
    showState(client, badge, setBadge);
    client.subscribe("cron", { onMessage: onTick });
  };
  start();
  return {
    restart() {
      client.close();
      start();
    },
  };
}
