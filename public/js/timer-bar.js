/**
 * One timer's progress bar, shared by the game master and customer views: an ARIA progressbar
 * whose fill is the time used; its text alternative says what is left.
 * @module
 */
import { formatDuration, h } from "./dom.js";
import { remaining } from "./timer-feed.js";

export function createBar(label) {
  const fill = h("span", { class: "fill" });
  const bar = h("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-label": label }, fill);
  return bar;
}

export function updateBar(bar, timer) {
  const max = Math.max(1, timer.maxTime ?? 1);
  const used = Math.min(max, Math.max(0, timer.currentTime ?? 0));
  bar.setAttribute("aria-valuemax", String(max));
  bar.setAttribute("aria-valuenow", String(used));
  bar.setAttribute("aria-valuetext", `${formatDuration(remaining(timer))} left of ${formatDuration(max)}`);
  bar.firstElementChild.style.width = `${(used / max) * 100}%`;
}
