/**
 * Helpers for the timer tests: a MySQL database of their own per test file (other helpers'
 * servers share the machine's `test` database and would otherwise load and tick these timers),
 * the environment for each storage mode, and a small JSON client for the REST API.
 */
import { createConnection } from "mysql2/promise";
import { type Mode, MYSQL_URL, uniquePrefix } from "./support/server.ts";

/** Creates `tw_timers_<random>` on the test MySQL; `drop()` removes it. Fails if MySQL is down. */
export async function ownDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const db = `tw_${name}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`.replace(/[^A-Za-z0-9_]/g, "_");
  const server = new URL(MYSQL_URL);
  const conn = await createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username),
    password: decodeURIComponent(server.password),
  });
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.end();
  const url = new URL(MYSQL_URL);
  url.pathname = `/${db}`;
  return {
    url: url.toString(),
    async drop() {
      const c = await createConnection({
        host: server.hostname,
        port: Number(server.port || 3306),
        user: decodeURIComponent(server.username),
        password: decodeURIComponent(server.password),
      });
      await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await c.end();
    },
  };
}

/** Environment for `mode`, with the MySQL database replaced by `mysqlUrl`, and a small tick. */
export function timersEnv(mode: Mode, prefix: string, mysqlUrl: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const env = mode.env(prefix);
  if (mode.name === "mysql+redis" && mysqlUrl) env.DATABASE_URL = mysqlUrl;
  return { TICK_MS: "100", ...env, ...extra };
}

export { uniquePrefix };

export interface Reply<T = any> {
  status: number;
  body: T;
}

/** JSON over HTTP against a server's base URL. */
export function api(base: { url: string }) {
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(base.url + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed };
  };
  return {
    call,
    create: (sessionId: string, maxTime: number) => call("POST", "/timer", { sessionId, maxTime }),
    get: (id: number | string) => call("GET", `/timer/${id}`),
    list: (sessionId?: string) => call("GET", sessionId === undefined ? "/timers" : `/timers?sessionId=${encodeURIComponent(sessionId)}`),
    pause: (id: number | string) => call("PUT", `/timer/${id}/pause`),
    resume: (id: number | string) => call("PUT", `/timer/${id}/resume`),
    modify: (id: number | string, maxTime: unknown) => call("PUT", `/timer/${id}/modify`, { maxTime }),
    stop: (id: number | string) => call("PUT", `/timer/${id}/stop`),
  };
}
