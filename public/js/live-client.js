/**
 * The page's connections through `@tickwire/client` (`tickwire-client.js`, the library built
 * from `packages/client` and committed, so the page needs no build step): one client per panel,
 * with the page's token, and its connection state shown on a panel badge.
 * @module
 */
import { getToken } from "./auth.js";
import { closeReason } from "./reconnecting-socket.js";
import { connect } from "./tickwire-client.js";

/** A client for this page's server; `transport`: `websocket` (default) or `sse`. */
export function pageClient(transport = "websocket") {
  // The page's token is fixed until the user pastes another (which restarts every panel).
  return connect(location.href, { transport, getToken: () => getToken() || undefined });
}

/** Shows `client`'s connection state on `badge` (`live`, `connecting`, `closed` with the reason). */
export function showState(client, badge, setBadge, liveLabel = "live") {
  return client.onState((state, detail) => {
    if (state === "connected") setBadge(badge, "live", liveLabel);
    else if (state === "connecting") setBadge(badge, "connecting", "connecting");
    else setBadge(badge, "closed", closeReason(detail.code, detail.reason) || (detail.willRetry ? "reconnecting" : "closed"));
  });
}
