/**
 * `METRICS_TOKEN`: when set, `GET /metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`
 * (compared in constant time), so that a public listener does not expose the metrics. It is a
 * token of its own, not a JWT: Prometheus scrapers send a static bearer token.
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { HttpError } from "../http/errors.ts";

export function requireMetricsToken(req: Request, token: string | undefined): void {
  if (!token) return;
  const header = req.headers.get("authorization") ?? "";
  const sent = /^bearer[ \t]+(\S+)\s*$/i.exec(header)?.[1] ?? "";
  const a = Buffer.from(sent);
  const b = Buffer.from(token);
  if (a.length === b.length && timingSafeEqual(a, b)) return;
  throw new HttpError(401, "unauthorized", "token: /metrics needs Authorization: Bearer <METRICS_TOKEN>", "token", {
    headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
  });
}
