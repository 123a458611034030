/**
 * The access token: kept in localStorage so a reload keeps it, sent as `Authorization: Bearer`
 * on fetch and as `?token=` on WebSocket and EventSource URLs (browsers cannot set headers on
 * those). With auth off on the server the token is simply empty and nothing is sent.
 * @module
 */

const KEY = "tickwire.token";
const listeners = new Set();

export function getToken() {
  try {
    return localStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

/** Stores `token` (empty removes it) and tells every listener, which reconnect with it. */
export function setToken(token) {
  const value = token.trim();
  try {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  } catch {}
  for (const listener of listeners) listener(value);
}

/** Calls `listener(token)` whenever the token changes; returns an unsubscribe function. */
export function onTokenChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Absolute `ws:`/`wss:` URL for `path` on this origin, with `?token=` when there is one. */
export function wsUrl(path, params = {}) {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return withParams(url, params).href;
}

/** Same-origin URL for `path` with `params` and `?token=` (for EventSource). */
export function httpUrl(path, params = {}) {
  return withParams(new URL(path, location.href), params).href;
}

function withParams(url, params) {
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") url.searchParams.set(k, v);
  const token = getToken();
  if (token) url.searchParams.set("token", token);
  return url;
}

/** A failed API call, carrying the server's `{"error":{"code","message"}}`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** JSON fetch with the bearer token; throws {@link ApiError} with the server's message. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "the server cannot be reached");
  }
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = data?.error;
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? `${method} ${path} failed with ${res.status}`);
  }
  return data;
}
