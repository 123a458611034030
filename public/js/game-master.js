/**
 * The game master panel: create timers for a session, and pause, resume, modify or stop any
 * timer. Commands go over REST (`POST /timer`, `PUT /timer/:id/...`); the list stays live from
 * `/ws/gamemaster/<session>`, which carries every timer's frames. Each row says whether its
 * session has a customer connected (presence, `session-presence.js`).
 * @module
 */
import { api } from "./auth.js";
import { byId, formatDuration, h, setBadge, showError } from "./dom.js";
import { SessionPresence } from "./session-presence.js";
import { createBar, updateBar } from "./timer-bar.js";
import { remaining, statusOf, TimerFeed } from "./timer-feed.js";

export function startGameMaster() {
  const form = byId("gm-create");
  const session = byId("gm-session");
  const maxTime = byId("gm-max");
  const list = byId("gm-timers");
  const empty = byId("gm-empty");
  const error = byId("gm-error");
  const badge = byId("gm-status");
  const customerLink = byId("gm-customer-link");
  /** id → the row's live parts, so a tick updates text in place and never steals focus. */
  const rows = new Map();
  const presence = new SessionPresence(() => render(feed.list()));

  const feed = new TimerFeed({
    socketPath: () => `/ws/gamemaster/${encodeURIComponent(session.value.trim() || "gm")}`,
    listPath: () => "/timers",
    onState: (state, detail) => setBadge(badge, state === "open" ? "live" : state, state === "open" ? "live" : detail || state),
    onChange: render,
  });

  const syncLink = () => {
    const url = new URL(location.href);
    url.search = "";
    url.searchParams.set("session", session.value.trim());
    url.hash = "customer";
    customerLink.href = url.href;
  };
  session.addEventListener("input", syncLink);
  syncLink();

  /** Runs a command, showing its error (or clearing the last one). */
  async function run(command) {
    try {
      await command();
      showError(error, "");
    } catch (err) {
      showError(error, err.message);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    run(async () => {
      const timer = await api("POST", "/timer", { sessionId: session.value.trim(), maxTime: Number(maxTime.value) });
      feed.upsert(timer);
    });
  });

  function createRow(timer) {
    const id = timer.id;
    const title = h("span", { class: "timer-title" });
    const customers = h("span", { class: "customers", "aria-label": "customers connected to this session" });
    const state = h("span", { class: "pill" });
    const left = h("span", { class: "remaining mono", "aria-label": "time left" });
    const bar = createBar(`Timer ${id} progress`);
    const pause = h("button", { type: "button", "data-action": "pause", text: "Pause" });
    const resume = h("button", { type: "button", "data-action": "resume", text: "Resume" });
    const modifyInput = h("input", {
      id: `gm-modify-${id}`,
      type: "number",
      min: 1,
      max: 604800,
      step: 1,
      required: true,
      inputmode: "numeric",
      value: timer.maxTime,
    });
    const modify = h(
      "form",
      { class: "modify" },
      h("label", { for: `gm-modify-${id}`, text: "Length (s)" }),
      modifyInput,
      h("button", { type: "submit", text: "Modify" }),
    );
    const stop = h("button", { type: "button", class: "danger", "data-action": "stop", text: "Stop" });
    // The pressed button becomes disabled; keyboard focus moves to its counterpart, not to <body>.
    pause.addEventListener("click", () =>
      run(async () => {
        feed.upsert(await api("PUT", `/timer/${id}/pause`));
        if (document.activeElement === pause || document.activeElement === document.body) resume.focus();
      }),
    );
    resume.addEventListener("click", () =>
      run(async () => {
        feed.upsert(await api("PUT", `/timer/${id}/resume`));
        if (document.activeElement === resume || document.activeElement === document.body) pause.focus();
      }),
    );
    modify.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!modify.reportValidity()) return;
      run(async () => feed.upsert(await api("PUT", `/timer/${id}/modify`, { maxTime: Number(modifyInput.value) })));
    });
    stop.addEventListener("click", () =>
      run(async () => {
        await api("PUT", `/timer/${id}/stop`);
        feed.remove(id);
      }),
    );
    const node = h(
      "li",
      { class: "timer", "data-id": id },
      h("div", { class: "timer-head" }, title, customers, state, left),
      bar,
      h("div", { class: "timer-actions", role: "group", "aria-label": `Timer ${id} controls` }, pause, resume, stop, modify),
    );
    return { node, title, customers, state, left, bar, pause, resume, modifyInput };
  }

  function render(timers) {
    presence.watch(timers.map((t) => t.sessionId));
    const seen = new Set();
    for (const timer of timers) {
      seen.add(timer.id);
      let row = rows.get(timer.id);
      if (!row) {
        row = createRow(timer);
        rows.set(timer.id, row);
      }
      const status = statusOf(timer);
      row.node.dataset.status = status;
      row.title.textContent = `#${timer.id} · ${timer.sessionId}`;
      const count = presence.counts.get(timer.sessionId);
      row.customers.dataset.customers = count === undefined ? "" : String(count);
      row.customers.textContent = count === undefined ? "" : count === 0 ? "no customer" : count === 1 ? "1 customer" : `${count} customers`;
      row.state.textContent = status;
      row.state.dataset.status = status;
      row.left.textContent = formatDuration(remaining(timer));
      updateBar(row.bar, timer);
      row.pause.disabled = status !== "running";
      row.resume.disabled = status !== "paused";
      if (document.activeElement !== row.modifyInput) row.modifyInput.placeholder = String(timer.maxTime);
    }
    for (const [id, row] of rows) {
      if (seen.has(id)) continue;
      row.node.remove();
      rows.delete(id);
    }
    // Append in id order; append() moves existing nodes, so only out-of-place rows move.
    let previous = null;
    for (const timer of timers) {
      const node = rows.get(timer.id).node;
      const expected = previous ? previous.nextSibling : list.firstChild;
      if (node !== expected) list.insertBefore(node, expected);
      previous = node;
    }
    empty.hidden = timers.length > 0;
  }

  return {
    restart() {
      feed.restart();
      presence.restart();
    },
  };
}
