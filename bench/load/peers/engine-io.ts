/**
 * Socket.IO 4's wire protocol (engine.io v4 + socket.io v5 packets) as a {@link Dialect} of the
 * fanout load client, so Socket.IO's subscribers are the same raw-TCP readers as every other
 * variant's and the client's cost per delivery is the same. Over a WebSocket each engine.io packet
 * is one text frame (no batching):
 * - server → `0{"sid":…,"pingInterval":…}` (engine.io open); client → `40` (connect to `/`);
 *   server → `40{"sid":…}` (connected: from here the socket is in the room its server put it in);
 * - server → `2` (ping), client → `3` (pong), with the same payload if any;
 * - events are `42["<name>",<data>]`: the publisher sends `42["publish",{"content":"k…@…"}]` and
 *   the server broadcasts `42["chat",{"content":"k…@…"}]`, which the client's scan for
 *   `"content":"k` reads as it reads tickwire's frames;
 * - `44{…}` is a refused connect, `1` an engine.io close.
 * @module
 */
import type { Control, Dialect } from "../fanout/client.ts";

/** The engine.io handshake path for a WebSocket-only client; `query` is handed to the server's `handshake.query`. */
export function socketIoPath(query = ""): string {
  return `/socket.io/?EIO=4&transport=websocket${query ? `&${query}` : ""}`;
}

/** A socket.io EVENT packet in an engine.io MESSAGE packet: `42["<event>",<data JSON>]`. */
export function encodeEvent(event: string, data: unknown): string {
  return `42${JSON.stringify([event, data])}`;
}

const CONNECT = { reply: "40" } satisfies Control;
const CONNECTED = { ready: true } satisfies Control;

/**
 * What a client does with one text frame from a Socket.IO server (`undefined`: nothing, the frame
 * is a message or something the benchmark ignores). Events (`42…`), the common case, are told by
 * their first two characters before anything else is looked at.
 */
export function socketIoControl(text: string): Control | undefined {
  const type = text.charCodeAt(0);
  if (type === 0x34 /* 4: message */) {
    const packet = text.charCodeAt(1);
    if (packet === 0x32 /* 2: event */) return undefined;
    if (packet === 0x30 /* 0: connect ack */) return CONNECTED;
    if (packet === 0x34 /* 4: connect error */) return { error: text.slice(2) };
    return undefined;
  }
  if (type === 0x30 /* 0: open */) return CONNECT;
  if (type === 0x32 /* 2: ping */) return { reply: `3${text.slice(1)}` };
  if (type === 0x31 /* 1: close */) return { error: "engine.io close" };
  return undefined;
}

/** The fanout client's dialect for the peers benchmark's Socket.IO server (`socketio-server.ts`). */
export const socketIoDialect: Dialect = {
  wsPath: socketIoPath("topics=chat"),
  publishPath: socketIoPath(),
  publishFrame: (content) => `42["publish",{"content":"${content}"}]`,
  control: socketIoControl,
};
