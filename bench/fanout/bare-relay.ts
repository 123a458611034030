/**
 * The baseline every fanout figure is divided by: the least a Bun relay can do. Sockets on
 * `/ws?topics=chat` subscribe natively to `chat`; any text frame a socket sends is published
 * verbatim on `chat` with one `server.publish` (no parsing, no log, no framing). `GET /events`
 * is not offered: SSE is compared with tickwire's own WebSocket path.
 *
 *   bun bench/fanout/bare-relay.ts [--port 0]
 * Prints one JSON line `{"listening":<port>}` once it accepts connections.
 * @module
 */
import { parseArgs } from "node:util";

/** Starts the bare relay; exported so micro benchmarks can run it in-process. */
export function startBareRelay(port = 0) {
  const server = Bun.serve<{ sub: boolean }>({
    port,
    hostname: "127.0.0.1",
    fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/ws" && srv.upgrade(req, { data: { sub: url.searchParams.get("topics") === "chat" } })) return;
      return new Response("bare relay: /ws?topics=chat to subscribe, /ws to publish", { status: 404 });
    },
    websocket: {
      // Same limits as tickwire (src/server/app.ts) so neither side gets a different socket setup.
      backpressureLimit: 1024 * 1024,
      maxPayloadLength: 1024 * 1024,
      idleTimeout: 120,
      sendPings: true,
      open(ws) {
        if (ws.data.sub) ws.subscribe("chat");
      },
      message(_ws, message) {
        server.publish("chat", message);
      },
    },
  });
  return server;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
  const server = startBareRelay(Number(values.port));
  console.log(JSON.stringify({ listening: server.port }));
  process.on("SIGTERM", () => {
    server.stop(true);
    process.exit(0);
  });
}
