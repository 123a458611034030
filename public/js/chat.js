/**
 * Chat over SSE, with nothing lost and nothing shown twice across reconnects:
 * - on (re)start it loads the retained history (`GET /messages`), then subscribes to `chat`
 *   through `@tickwire/client` on its SSE transport from the newest seq it shows, so nothing
 *   falls between the two;
 * - the client reconnects by itself (backoff with jitter) and resumes from the last seq it
 *   handed over, dropping anything it already delivered;
 * - `onRecovered` (the offset was older than the retained history, or the history was lost)
 *   reloads the history;
 * - every message is kept by `seq` and by `id` and inserted in `seq` order, so history
 *   reloads and our own optimistic echo never show a message twice or out of order.
 * @module
 */
import { api } from "./auth.js";
import { byId, h, setBadge, showError, stickToBottom } from "./dom.js";
import { pageClient, showState } from "./live-client.js";
import { compareSeq } from "./tickwire-client.js";

const USER_KEY = "tickwire.chat.user";
const MAX_SHOWN = 500;

export function startChat() {
  const log = byId("chat-log");
  const form = byId("chat-form");
  const input = byId("chat-input");
  const user = byId("chat-user");
  const error = byId("chat-error");
  const badge = byId("chat-status");
  try {
    user.value = localStorage.getItem(USER_KEY) ?? "";
  } catch {}

  /** Shown messages, in seq order: {seq, id, node}. */
  const shown = [];
  const seqs = new Set();
  const ids = new Set();
  const mine = new Set();
  let client;
  let retryTimer;
  let retryDelay = 1000;
  let generation = 0;

  const newestSeq = () => shown.at(-1)?.seq;

  function add(message) {
    if (!message || typeof message.seq !== "string" || typeof message.content !== "string") return;
    if (seqs.has(message.seq) || (message.id && ids.has(message.id))) return;
    seqs.add(message.seq);
    if (message.id) ids.add(message.id);
    const time = new Date(message.timestamp ?? message.ts);
    const node = h(
      "li",
      { class: mine.has(message.id) ? "msg mine" : "msg", "data-seq": message.seq, "data-id": message.id },
      h("span", { class: "who", text: message.user || "anonymous" }),
      h("time", {
        datetime: Number.isNaN(time.getTime()) ? undefined : time.toISOString(),
        text: Number.isNaN(time.getTime()) ? "" : time.toLocaleTimeString(),
      }),
      h("p", { class: "text", text: message.content }),
    );
    // Usually the newest: walk back from the end to find its place.
    let at = shown.length;
    while (at > 0 && compareSeq(shown[at - 1].seq, message.seq) > 0) at -= 1;
    stickToBottom(log, () => {
      log.insertBefore(node, shown[at]?.node ?? null);
      shown.splice(at, 0, { seq: message.seq, id: message.id, node });
      while (shown.length > MAX_SHOWN) shown.shift().node.remove();
    });
    log.dataset.count = String(seqs.size);
  }

  async function loadHistory() {
    const data = await api("GET", "/messages?limit=200");
    for (const message of data?.messages ?? []) add(message);
  }

  /** (Re)starts from scratch: history, then the stream from the newest seq. */
  async function connect() {
    const mineGen = ++generation;
    log.dataset.starts = String(mineGen);
    clearTimeout(retryTimer);
    client?.close();
    client = undefined;
    setBadge(badge, "connecting", "connecting");
    try {
      await loadHistory();
    } catch (err) {
      if (mineGen !== generation) return;
      retryLater(err.message);
      return;
    }
    if (mineGen !== generation) return;
    retryDelay = 1000;
    client = pageClient("sse");
    showState(client, badge, setBadge);
    client.subscribe("chat", {
      since: newestSeq() ?? "0-0",
      onMessage: add,
      onRecovered: () => loadHistory().catch((err) => showError(error, `could not reload history: ${err.message}`)),
      onError: (err) => retryLater(err.message),
    });
  }

  function retryLater(why) {
    client?.close();
    client = undefined;
    setBadge(badge, "closed", `retrying (${why})`);
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10_000);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const content = input.value;
    if (!content.trim()) return;
    const name = user.value.trim();
    try {
      localStorage.setItem(USER_KEY, name);
    } catch {}
    try {
      const sent = await api("POST", "/messages", name ? { content, user: name } : { content });
      mine.add(sent.id);
      if (typeof sent.seq === "string") add(sent);
      // The stream may have delivered it before this answer came back.
      for (const entry of shown) if (entry.id === sent.id) entry.node.classList.add("mine");
      input.value = "";
      showError(error, "");
    } catch (err) {
      showError(error, err.message);
    }
    input.focus();
  });

  connect();
  return { restart: connect };
}
