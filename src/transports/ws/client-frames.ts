/**
 * What every WebSocket endpoint does with a client's text frame before its own handling: parse
 * it as a JSON object, and bound how many malformed ones a socket may send.
 * @module
 */
import { CloseCode, closeSocket, type Socket, sendError } from "./socket.ts";

/** More than this many malformed frames within one second closes the socket with 1008. */
export const MALFORMED_PER_SECOND = 10;

/** Longest JSON frame parsed, in characters: a 64 KiB payload (SPEC) and its op's envelope. */
export const MAX_FRAME_CHARS = 65 * 1024;
/** Deepest nesting of arrays and objects parsed: `JSON.parse` of deep nesting is slow (~270 ms a MiB). */
export const MAX_FRAME_DEPTH = 32;

/**
 * Parses a client frame into a JSON object, or explains why it is not one. Frames too long or too
 * deeply nested are refused before `JSON.parse`, whose cost on them one socket could otherwise
 * spend the event loop on, under the ops limit, delaying every other client.
 */
export function parseClientFrame(message: string | Buffer): { value: Record<string, unknown> } | { error: string } {
  if (typeof message !== "string") return { error: "binary frames are not accepted; send JSON text" };
  if (message.length > MAX_FRAME_CHARS) return { error: `frame is over ${MAX_FRAME_CHARS} characters` };
  if (message.length > 2 * MAX_FRAME_DEPTH && tooDeep(message)) return { error: `frame nests arrays or objects deeper than ${MAX_FRAME_DEPTH}` };
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { error: "frame is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "frame must be a JSON object" };
  return { value: value as Record<string, unknown> };
}

/** Whether `text` opens more than {@link MAX_FRAME_DEPTH} arrays or objects at once (outside strings). */
function tooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_FRAME_DEPTH) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

/**
 * Answers a malformed frame with an `error` frame; past {@link MALFORMED_PER_SECOND} within a
 * second, closes the socket with 1008 instead.
 */
export function rejectMalformed(ws: Socket, now: number, code: string, message: string, ref?: unknown): void {
  const d = ws.data;
  if (now - d.malformedWindow >= 1000) {
    d.malformedWindow = now;
    d.malformedCount = 0;
  }
  if (++d.malformedCount > MALFORMED_PER_SECOND) {
    closeSocket(ws, CloseCode.policyViolation, "too many malformed frames");
    return;
  }
  sendError(ws, code, message, ref);
}

/**
 * Admits one in-band op of `ws` under a limit of `perSecond` a second: past it the socket is sent
 * one `rate_limited` error and its further ops in that second are dropped unanswered (answering
 * a flood is what costs); past twice the limit it is closed with 1008. Returns whether to handle
 * the op. `onRefused` counts each op refused. With `answer` false no error is sent: the caller
 * answers each refused op itself (an endpoint whose replies are matched by order).
 */
export function admitOp(ws: Socket, now: number, perSecond: number, onRefused?: () => void, answer = true): boolean {
  const d = ws.data;
  if (d.opsWindow === undefined || now - d.opsWindow >= 1000) {
    d.opsWindow = now;
    d.opsCount = 0;
  }
  const count = (d.opsCount = (d.opsCount ?? 0) + 1);
  if (count <= perSecond) return true;
  onRefused?.();
  if (answer && count === perSecond + 1) {
    sendError(ws, "rate_limited", `frame: more than ${perSecond} ops a second on this socket; further ops this second are dropped`);
  } else if (count > 2 * perSecond) {
    closeSocket(ws, CloseCode.policyViolation, "too many frames");
  }
  return false;
}

/**
 * Admits one publish of `ws` (a publish op, a manager frame, a game-master command) under a
 * limit of `perSecond` a second. Unlike {@link admitOp}, a refused publish is not dropped: the
 * caller answers it `rate_limited`, so a client waiting for its ack learns it was not taken.
 */
export function admitPublish(ws: Socket, now: number, perSecond: number): boolean {
  const d = ws.data;
  if (d.publishWindow === undefined || now - d.publishWindow >= 1000) {
    d.publishWindow = now;
    d.publishCount = 0;
  }
  d.publishCount = (d.publishCount ?? 0) + 1;
  return d.publishCount <= perSecond;
}

/** The `rate_limited` answer to a refused publish. */
export const PUBLISH_RATE_MESSAGE = (perSecond: number) =>
  `publish: more than ${perSecond} publishes a second on this socket (WS_PUBLISHES_PER_SECOND); retry later`;
