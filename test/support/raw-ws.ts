/**
 * A WebSocket peer on a raw TCP socket that completes the handshake and then stops reading: the
 * stalled client of the backpressure tests. The kernel buffers fill, then the server's.
 */
import { connect, type Socket } from "node:net";

export async function stalledWebSocket(port: number, path: string): Promise<Socket> {
  const sock = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  // A tiny receive buffer so that the server's own buffer fills quickly.
  sock.setNoDelay(true);
  sock.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    sock.once("data", (chunk) => (String(chunk).startsWith("HTTP/1.1 101") ? resolve() : reject(new Error(String(chunk)))));
  });
  sock.pause(); // never read again
  return sock;
}
