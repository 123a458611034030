/**
 * Token lifetime on open WebSockets, whatever their endpoint: a socket is closed with 4401 at
 * its token's `exp`, unless the client sent `{"op":"refresh","token","ref"?}` with a newer valid
 * token first (answered `{"op":"ack","ref"?,"exp"}`). A refreshed token must be for the same
 * `sub` and still allow every topic the socket is subscribed to (and the topic its endpoint
 * publishes on); otherwise it is refused and the old expiry stands.
 * @module
 */
import { canPublish, canSubscribe } from "../../auth/access.ts";
import type { Auth } from "../../auth/auth.ts";
import type { Principal } from "../../auth/principal.ts";
import { type Clock, runAt } from "../../core/clock.ts";
import { httpErrorOf } from "../../http/errors.ts";
import { parseClientFrame } from "./client-frames.ts";
import { CloseCode, closeSocket, type Socket } from "./socket.ts";

export const EXPIRED_REASON = "token expired; reconnect with a new token, or send op refresh before exp";

/** Schedules the close of `ws` at its principal's `exp` (replacing any earlier schedule). */
export function armExpiry(ws: Socket, clock: Clock): void {
  ws.data.cancelExpiry?.();
  const exp = ws.data.principal?.exp;
  if (exp === undefined) return;
  ws.data.cancelExpiry = runAt(clock, exp * 1000, () => closeSocket(ws, CloseCode.unauthorized, EXPIRED_REASON));
}

export function disarmExpiry(ws: Socket): void {
  ws.data.cancelExpiry?.();
  ws.data.cancelExpiry = undefined;
}

/** Whether the socket's token has expired by `now` (a frame that races the scheduled close). */
export function expired(ws: Socket, now: number): boolean {
  const exp = ws.data.principal?.exp;
  return exp !== undefined && exp * 1000 <= now;
}

/**
 * The frame as a refresh op, cheaply: only frames that mention "refresh" are parsed, within the
 * client frame guards (65 KiB, nesting): a frame of up to Bun's 1 MiB payload would block the
 * loop for ~100 ms. A longer one goes to the endpoint, which refuses what it cannot take (a
 * manager's message is at most 64 KiB, so a refresh op is never relayed as one).
 */
export function refreshOp(message: string | Buffer): RefreshOp | undefined {
  if (typeof message !== "string" || !message.includes('"refresh"')) return undefined;
  const parsed = parseClientFrame(message);
  if (!("value" in parsed)) return undefined;
  return parsed.value.op === "refresh" ? { token: parsed.value.token, ref: parsed.value.ref } : undefined;
}

export type RefreshOp = { token: unknown; ref: unknown };

/** The op's `ref` to echo, as `{ref}` or `{}` (only a string or a number is echoed). */
function refOf(op: RefreshOp): { ref?: string | number } {
  return typeof op.ref === "string" || typeof op.ref === "number" ? { ref: op.ref } : {};
}

/** The error frame answering `op`, with its `ref`. */
export function refreshError(op: RefreshOp, code: string, message: string): object {
  return { op: "error", code, message, ...refOf(op) };
}

/** Why `next` cannot replace `current` on `ws`, or `undefined`. */
function refusal(ws: Socket, current: Principal, next: Principal): string | undefined {
  if (next.sub !== current.sub) return "refresh: the new token is for another sub";
  for (const topic of [...(ws.data.subscriptions?.topics() ?? []), ...(ws.data.requireSubscribe ? [ws.data.requireSubscribe] : [])]) {
    if (!canSubscribe(next, topic)) return `refresh: the new token does not allow subscribing to ${topic}`;
  }
  if (ws.data.requirePublish && !canPublish(next, ws.data.requirePublish))
    return `refresh: the new token does not allow publishing on ${ws.data.requirePublish}`;
  return undefined;
}

/**
 * Answers one refresh op of `ws`: verifies the token and applies it at once (so a socket near
 * its `exp` is not closed while the answer waits), and resolves with the reply frame, to send
 * when the endpoint's reply order allows (see `SocketBehavior.replyInOrder`); `undefined` when
 * the socket closed meanwhile.
 */
export async function refreshReply(ws: Socket, op: RefreshOp, auth: Auth, clock: Clock): Promise<object | undefined> {
  const withRef = refOf(op);
  const error = (code: string, message: string) => refreshError(op, code, message);
  const current = ws.data.principal;
  if (!auth.enabled || !current) return { op: "ack", ...withRef, auth: "off" };
  if (typeof op.token !== "string" || op.token.length === 0 || op.token.length > 8192) {
    return error("bad_frame", "token: expected the new JWT as a string");
  }
  let next: Principal;
  try {
    next = await auth.verify(op.token);
  } catch (err) {
    return error("unauthorized", httpErrorOf(err).message);
  }
  if (ws.data.closed) return undefined;
  const problem = refusal(ws, current, next);
  if (problem) return error("forbidden", problem);
  ws.data.principal = next;
  armExpiry(ws, clock);
  return { op: "ack", ...withRef, exp: next.exp };
}
