/**
 * The relay: this tab is both ends. It sends on `/ws/manager` (each text frame is appended to the
 * relay log and acknowledged with `{"op":"ack","seq"}`) and listens on `/ws/broadcast`, which
 * hands every manager message on verbatim, exactly the text that was sent.
 * @module
 */
import { wsUrl } from "./auth.js";
import { byId, h, setBadge, showError, stickToBottom } from "./dom.js";
import { ReconnectingSocket } from "./reconnecting-socket.js";

const MAX_SHOWN = 200;

export function startRelay() {
  const form = byId("relay-form");
  const input = byId("relay-input");
  const log = byId("relay-log");
  const error = byId("relay-error");
  const managerBadge = byId("relay-manager-status");
  const broadcastBadge = byId("relay-broadcast-status");
  let received = 0;

  const badge = (node, who) => (state, detail) => setBadge(node, state === "open" ? "live" : state, `${who}: ${state === "open" ? "live" : detail || state}`);

  const manager = new ReconnectingSocket(() => wsUrl("/ws/manager"), {
    onState: badge(managerBadge, "manager"),
    onMessage(text) {
      let reply;
      try {
        reply = JSON.parse(text);
      } catch {
        return;
      }
      if (reply.op === "error") showError(error, reply.message ?? reply.code);
      else if (reply.op === "ack") showError(error, "");
    },
  });

  const broadcaster = new ReconnectingSocket(() => wsUrl("/ws/broadcast"), {
    onState: badge(broadcastBadge, "broadcaster"),
    onMessage(text) {
      received += 1;
      const node = h("li", { class: "msg raw" }, h("time", { text: new Date().toLocaleTimeString() }), h("pre", { class: "text mono", text: text }));
      stickToBottom(log, () => {
        log.append(node);
        while (log.childElementCount > MAX_SHOWN) log.firstElementChild.remove();
      });
      log.dataset.count = String(received);
    },
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text) return;
    if (!manager.send(text)) {
      showError(error, "the manager socket is not connected yet; try again in a moment");
      return;
    }
    input.value = "";
    input.focus();
  });

  return {
    restart() {
      manager.restart();
      broadcaster.restart();
    },
  };
}
