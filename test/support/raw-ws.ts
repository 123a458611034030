/**
 * A WebSocket peer on a raw TCP socket that completes the handshake and then stops reading: the
 * stalled client of the backpressure tests. The kernel buffers fill, then the server's.
 */
import { connect, type Socket } from "node:net";

export async function stalledWebSocket(port: number, path: string): Promise<Socket> {
  return (await pausedWebSocket(port, path)).sock;
}

/** {@link stalledWebSocket}, with the frames' bytes that came along with the handshake's answer. */
export async function pausedWebSocket(port: number, path: string): Promise<{ sock: Socket; rest: Buffer }> {
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
  const rest = await new Promise<Buffer>((resolve, reject) => {
    sock.once("data", (chunk: Buffer) => {
      if (!String(chunk).startsWith("HTTP/1.1 101")) return reject(new Error(String(chunk)));
      resolve(chunk.subarray(chunk.indexOf("\r\n\r\n") + 4));
    });
  });
  sock.pause(); // never read again
  return { sock, rest };
}

/** A frame a server sent (unmasked): its opcode and payload. */
export interface ServerFrame {
  op: number;
  payload: Buffer;
}

/** The complete frames at the start of a server's byte stream, and how many bytes they took. */
export function serverFrames(bytes: Buffer): { frames: ServerFrame[]; used: number } {
  const frames: ServerFrame[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    let len = bytes[at + 1]! & 0x7f;
    let head = 2;
    if (len === 126) {
      if (at + 4 > bytes.length) break;
      len = bytes.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (at + 10 > bytes.length) break;
      len = Number(bytes.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (at + head + len > bytes.length) break;
    frames.push({ op: bytes[at]! & 0x0f, payload: bytes.subarray(at + head, at + head + len) });
    at += head + len;
  }
  return { frames, used: at };
}

/** The code of a server's close frame (1005 without one). */
export function closeCode(frame: ServerFrame): number {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
}
