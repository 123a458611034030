/**
 * The one error type for requests, turned into `{"error":{"code","message"}}` in one place.
 * @module
 */
import { LogUnavailableError } from "../core/topic-log.ts";

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    options?: ErrorOptions & { headers?: Record<string, string> },
  ) {
    super(message, options);
    this.name = "HttpError";
    this.headers = options?.headers;
  }

  readonly headers: Record<string, string> | undefined;

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export const badRequest = (message: string, field?: string) => new HttpError(400, "bad_request", message, field);
export const notFound = (message = "not found") => new HttpError(404, "not_found", message);
export const conflict = (message: string) => new HttpError(409, "conflict", message);
export const unavailable = (message: string, retryAfterSeconds = 1, cause?: unknown) =>
  new HttpError(503, "unavailable", message, undefined, { cause, headers: { "Retry-After": String(retryAfterSeconds) } });

/** A client past a count limit (topics, timers, connections): 429 `limit_exceeded`. */
export const limitExceeded = (message: string, field?: string, retryAfterSeconds = 10) =>
  new HttpError(429, "limit_exceeded", message, field, { headers: { "Retry-After": String(retryAfterSeconds) } });
/** A client past a rate limit: 429 `rate_limited`. */
export const rateLimited = (message: string, field?: string, retryAfterSeconds = 1) =>
  new HttpError(429, "rate_limited", message, field, { headers: { "Retry-After": String(retryAfterSeconds) } });

export function jsonResponse(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/**
 * A topic log that cannot take an append (Redis down, append queue full) as a 503 with
 * `Retry-After`: the append was not acknowledged, so the client keeps it and retries.
 */
export function logUnavailable(error: LogUnavailableError): HttpError {
  const code = error.reason === "overloaded" ? "overloaded" : "log_unavailable";
  return new HttpError(503, code, error.message, undefined, { cause: error, headers: { "Retry-After": "1" } });
}

/**
 * Any thrown value as the error a client is answered with: a {@link LogUnavailableError} is a
 * 503 with `Retry-After`, anything unknown a 500 that leaks no details. HTTP responses and
 * WebSocket error frames both go through here.
 */
export function httpErrorOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof LogUnavailableError) return logUnavailable(error);
  return new HttpError(500, "internal", "internal server error", undefined, { cause: error });
}

/** The only place an error becomes a response. */
export function errorResponse(error: unknown): Response {
  const e = httpErrorOf(error);
  return jsonResponse(e.toBody(), e.status, e.headers);
}
