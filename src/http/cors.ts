/**
 * Browser origins: CORS headers for allowed ones, and the Origin check on WebSocket upgrades.
 * @module
 */
import { HttpError } from "./errors.ts";

/**
 * A browser WebSocket handshake from a page of another, not allowed origin is refused (403
 * JSON, not upgraded): browsers send cookies and credentials cross-site on upgrades, and no
 * CORS check protects them. Clients without `Origin` (not browsers) and pages served from this
 * same host are allowed.
 */
export function refusedOrigin(req: Request, allowed: string[]): HttpError | undefined {
  const origin = req.headers.get("origin");
  if (!origin || allowed.includes("*") || allowed.includes(origin)) return undefined;
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  try {
    if (new URL(origin).host === req.headers.get("host")) return undefined;
  } catch {}
  return new HttpError(403, "origin_not_allowed", `Origin: ${origin.slice(0, 200)} is not in ALLOWED_ORIGINS`, "Origin");
}

export function corsHeaders(req: Request, allowed: string[]): Record<string, string> {
  const origin = req.headers.get("origin");
  if (!origin) return {};
  if (!allowed.includes("*") && !allowed.includes(origin)) return {};
  return {
    "Access-Control-Allow-Origin": allowed.includes("*") ? "*" : origin,
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Last-Event-ID, Idempotency-Key",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    Vary: "Origin",
  };
}
