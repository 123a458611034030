/**
 * Small DOM helpers shared by the panels: element lookup that fails loudly, element creation,
 * connection badges and error lines.
 * @module
 */

/** The element with `id`; throws if the page lacks it (a typo shows at once, not later). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}

/** `h("li", {class: "x", "data-id": 3}, child, "text")`: attributes set, children appended. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

/** Shows a connection state on a badge: `data-state` drives the colour, text says it. */
export function setBadge(node, state, label) {
  node.dataset.state = state;
  node.textContent = label ?? state;
}

/** Shows `message` in an alert line, or hides it when empty. */
export function showError(node, message) {
  node.textContent = message ?? "";
  node.hidden = !message;
}

/** `m:ss`, or `h:mm:ss` past an hour. */
export function formatDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** Keeps a scrolled-to-bottom log pinned to the bottom as rows arrive. */
export function stickToBottom(list, mutate) {
  const pinned = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
  mutate();
  if (pinned) list.scrollTop = list.scrollHeight;
}
