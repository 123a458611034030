/**
 * The Socket.IO 4 peer: a relay that does what the fanout benchmark asks of every server and
 * nothing else. A socket whose handshake query has `topics=chat` joins the room `chat`; an event
 * `publish` from any socket is broadcast to that room as event `chat` with the same data (one
 * `io.to("chat").emit`: Socket.IO encodes the packet once and writes it to each socket).
 * WebSocket transport only (long-polling off: the benchmark's clients speak WebSocket), no
 * per-message deflate, no client bundle served; everything else is Socket.IO's default.
 *
 * Meant for Node, the runtime Socket.IO is built for: `launch.ts` transpiles this file to
 * JavaScript and runs it with `node` (Node 20 cannot run TypeScript), so it imports only `node:`
 * modules and `socket.io`. Under Node, Socket.IO's WebSocket server is the `ws` package (here
 * without its optional native `bufferutil` / `utf-8-validate` addons, which are not installed).
 *
 *   node <transpiled>.mjs [port]   # prints {"listening":<port>,"runtime":"node v…"}
 * @module
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";

const http = createServer();
const io = new Server(http, { transports: ["websocket"], serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 1024 * 1024 });

io.on("connection", (socket) => {
  // Joined before the connect ack leaves: `_onconnect` (which writes the ack) and the
  // `connection` handlers run in one synchronous call, so a client that has the ack is in the room.
  if (socket.handshake.query.topics === "chat") socket.join("chat");
  socket.on("publish", (data: unknown) => {
    io.to("chat").emit("chat", data);
  });
});

const runtime = typeof Bun === "undefined" ? `node ${process.version}` : `bun ${Bun.version}`;
http.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: (http.address() as AddressInfo).port, runtime }));
});

const stop = () => {
  io.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
