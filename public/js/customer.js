/**
 * The customer view: the timers of one session, big, from `/ws/customer/<sessionId>`. The
 * session comes from `?session=` (the link the game master panel offers) or the form.
 * @module
 */
import { byId, formatDuration, h, setBadge } from "./dom.js";
import { createBar, updateBar } from "./timer-bar.js";
import { remaining, statusOf, TimerFeed } from "./timer-feed.js";

export function startCustomer() {
  const form = byId("customer-form");
  const input = byId("customer-session");
  const list = byId("customer-timers");
  const empty = byId("customer-empty");
  const badge = byId("customer-status");
  // The digits change every second, so they are not a live region; state changes are announced.
  const announce = byId("customer-announce");
  const fromUrl = new URL(location.href).searchParams.get("session");
  if (fromUrl) input.value = fromUrl;
  let watching = input.value.trim();
  const rows = new Map();

  const feed = new TimerFeed({
    socketPath: () => `/ws/customer/${encodeURIComponent(watching)}`,
    listPath: () => `/timers?sessionId=${encodeURIComponent(watching)}`,
    onState: (state, detail) => setBadge(badge, state === "open" ? "live" : state, state === "open" ? `watching ${watching}` : detail || state),
    onChange: render,
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    watching = input.value.trim();
    const url = new URL(location.href);
    url.searchParams.set("session", watching);
    history.replaceState(null, "", url);
    feed.restart();
  });

  function render(timers) {
    const seen = new Set();
    for (const timer of timers) {
      seen.add(timer.id);
      let row = rows.get(timer.id);
      if (!row) {
        const digits = h("span", { class: "digits mono" });
        const state = h("span", { class: "pill" });
        const bar = createBar(`Timer ${timer.id} progress`);
        const node = h(
          "li",
          { class: "countdown", "data-id": timer.id },
          h("div", { class: "countdown-head" }, h("span", { text: `Timer #${timer.id}` }), state),
          digits,
          bar,
        );
        row = { node, digits, state, bar };
        rows.set(timer.id, row);
        list.append(node);
      }
      const status = statusOf(timer);
      if (row.node.dataset.status && row.node.dataset.status !== status) announce.textContent = `Timer ${timer.id} ${status}`;
      row.node.dataset.status = status;
      row.digits.textContent = formatDuration(remaining(timer));
      row.state.textContent = status;
      row.state.dataset.status = status;
      updateBar(row.bar, timer);
    }
    for (const [id, row] of rows) {
      if (seen.has(id)) continue;
      row.node.remove();
      rows.delete(id);
    }
    empty.hidden = timers.length > 0;
  }

  return feed;
}
