/**
 * tickwire's browser client: wires each panel of index.html to its endpoint. Plain ES modules,
 * served as they are; there is no build step.
 * @module
 */
import { getToken, onTokenChange, setToken } from "./js/auth.js";
import { startChat } from "./js/chat.js";
import { startClock } from "./js/clock.js";
import { startCustomer } from "./js/customer.js";
import { byId } from "./js/dom.js";
import { startGameMaster } from "./js/game-master.js";
import { startMetrics } from "./js/metrics.js";
import { startRelay } from "./js/relay.js";

const tokenInput = byId("token");
const tokenState = byId("token-state");
const showTokenState = () => (tokenState.textContent = getToken() ? "token in use" : "no token: fine while auth is off");
tokenInput.value = getToken();
showTokenState();
byId("auth-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setToken(tokenInput.value);
  showTokenState();
});

const panels = [startClock(), startMetrics(), startGameMaster(), startCustomer(), startChat(), startRelay()];

// A new token means new permissions: every connection starts again with it.
onTokenChange(() => {
  for (const panel of panels) panel.restart?.();
});

if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
