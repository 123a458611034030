/**
 * `/openapi.json` against the live server: every route the features serve is documented, every
 * documented path + method is served (never the router's 404 or 405), and request bodies built
 * from the documented schemas are accepted while ones that break them get 400.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { startServer } from "./support/server.ts";

const METHODS = ["get", "post", "put", "delete", "patch"] as const;

let app: Tickwire;
let doc: any;
beforeAll(async () => {
  app = await startServer({ TICK_MS: "100" });
  const res = await fetch(`${app.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  doc = await res.json();
});
afterAll(() => app.stop());

/** The live route table, from the features the server was composed of. */
function liveRoutes(): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  for (const feature of app.features) {
    for (const [route, methods] of Object.entries(feature.routes ?? {})) {
      for (const method of Object.keys(methods)) out.push({ method: method.toLowerCase(), path: route.replace(/:(\w+)/g, "{$1}") });
    }
  }
  return out;
}

/** A concrete URL path for a templated one. */
function concrete(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => ({ id: "999999", sessionId: "openapi-s", file: "app.js" })[name] ?? "x");
}

/** Resolves a local `$ref`. */
function deref(schema: any): any {
  if (!schema?.$ref) return schema;
  const name = String(schema.$ref).replace("#/components/schemas/", "");
  return doc.components.schemas[name];
}

/** The smallest value the (plain JSON) schema allows: required properties only, minimal lengths, or the documented example (a pattern). */
function example(schema: any): unknown {
  if (schema.examples?.length) return schema.examples[0];
  if (schema.type === "object") return Object.fromEntries((schema.required ?? []).map((k: string) => [k, example(schema.properties[k])]));
  if (schema.type === "string") return "x".repeat(Math.max(1, schema.minLength ?? 1));
  if (schema.type === "integer" || schema.type === "number") return schema.minimum ?? 1;
  if (schema.type === "boolean") return true;
  throw new Error(`no example for ${JSON.stringify(schema)}`);
}

/** True when the router itself refused the request: unknown path (404) or method (405). */
async function refusedByRouter(res: Response): Promise<boolean> {
  if (res.status !== 404 && res.status !== 405) return false;
  const type = res.headers.get("content-type") ?? "";
  if (!type.includes("json")) return false;
  const body = (await res.clone().json()) as any;
  return body.error?.code === "method_not_allowed" || String(body.error?.message).startsWith("no route for");
}

describe("/openapi.json", () => {
  it("is an OpenAPI 3.1 document whose $refs resolve and whose operation ids are unique", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("tickwire");
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const name of refs) expect(doc.components.schemas[name]).toBeDefined();
    const ids = Object.values(doc.paths).flatMap((item: any) => Object.values(item).map((op: any) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("documents every live route, none as undocumented", () => {
    const live = liveRoutes();
    expect(live.length).toBeGreaterThanOrEqual(20);
    for (const { method, path } of live) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path} is not in /openapi.json`).toBeDefined();
      expect(op["x-undocumented"], `${method.toUpperCase()} ${path} has no entry in OPERATIONS`).toBeUndefined();
      expect(typeof op.summary).toBe("string");
    }
    // And the SPEC's endpoints are among them.
    for (const [path, method] of [
      ["/health", "get"],
      ["/metrics", "get"],
      ["/timer", "post"],
      ["/timer/{id}", "get"],
      ["/timers", "get"],
      ["/timer/{id}/pause", "put"],
      ["/timer/{id}/resume", "put"],
      ["/timer/{id}/modify", "put"],
      ["/timer/{id}/stop", "put"],
      ["/messages", "post"],
      ["/messages", "get"],
      ["/events", "get"],
      ["/notify", "post"],
      ["/", "get"],
      ["/openapi.json", "get"],
      ["/ws", "get"],
      ["/ws/customer/{sessionId}", "get"],
      ["/ws/gamemaster/{sessionId}", "get"],
      ["/ws/manager", "get"],
      ["/ws/broadcast", "get"],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });

  it("lists only routes the live server answers (no router 404 or 405)", async () => {
    let checked = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const abort = new AbortController();
        const hasBody = item[method].requestBody !== undefined;
        const res = await fetch(`${app.url}${concrete(path)}`, {
          method: method.toUpperCase(),
          signal: abort.signal,
          ...(hasBody ? { body: "{}", headers: { "Content-Type": "application/json" } } : {}),
        });
        expect(await refusedByRouter(res), `${method.toUpperCase()} ${path} → ${res.status}`).toBe(false);
        // A documented status (or the 101/426 of WebSocket routes), never an undocumented one.
        expect(Object.keys(item[method].responses), `${method.toUpperCase()} ${path} answered ${res.status}`).toContain(String(res.status));
        abort.abort(); // ends SSE streams
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
    // The router's own refusals look different: they are what the check above rules out.
    expect(await refusedByRouter(await fetch(`${app.url}/no-such-path`))).toBe(true);
    expect(await refusedByRouter(await fetch(`${app.url}/timer`, { method: "DELETE" }))).toBe(true);
  });

  it("request bodies are the validating schemas: a body made from the documented schema is accepted, {} is refused naming a field", async () => {
    const created = (await (
      await fetch(`${app.url}/timer`, {
        method: "POST",
        body: JSON.stringify({ sessionId: "openapi-s", maxTime: 600 }),
        headers: { "Content-Type": "application/json" },
      })
    ).json()) as any;
    let checked = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        const schema = deref(op?.requestBody?.content?.["application/json"]?.schema);
        if (!schema) continue;
        const url = `${app.url}${path.replace("{id}", String(created.id))}`;
        const send = (body: unknown) =>
          fetch(url, { method: method.toUpperCase(), body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
        const valid = example(schema);
        const ok = await send(valid);
        expect(ok.status, `${method.toUpperCase()} ${path} with ${JSON.stringify(valid)}`).toBeLessThan(300);
        expect(Object.keys(op.responses)).toContain(String(ok.status));
        const required: string[] = schema.required ?? [];
        expect(required.length).toBeGreaterThan(0);
        const bad = await send({});
        expect(bad.status).toBe(400);
        const err = (await bad.json()) as any;
        expect(required).toContain(err.error.field);
        checked++;
      }
    }
    expect(checked).toBe(4); // POST /timer, PUT /timer/{id}/modify, POST /messages, POST /notify
  });

  it("documents permissions and the WebSocket frames clients send", () => {
    expect(doc.paths["/timer"].post["x-permission"]).toBe("publish on timers");
    expect(doc.paths["/ws/manager"].get["x-permission"]).toBe("publish on relay");
    expect(doc.paths["/notify"].post["x-permission"]).toBe("publish on chat");
    expect(doc.paths["/timer"].post.responses["401"]).toBeDefined();
    expect(doc.paths["/timer"].post.responses["403"]).toBeDefined();
    const gm = doc.paths["/ws/gamemaster/{sessionId}"].get["x-websocket-messages"].map((r: any) => r.$ref);
    expect(gm).toContain("#/components/schemas/GameMaster_TIMER_CREATE");
    expect(doc.components.schemas.GameMaster_TIMER_MODIFY.properties.payload.required).toEqual(["id", "maxTime"]);
    expect(doc.components.securitySchemes.bearer.scheme).toBe("bearer");
  });
});
