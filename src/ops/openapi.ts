/**
 * `GET /openapi.json`: an OpenAPI 3.1 document of every HTTP route the features serve.
 *
 * Paths and methods come from the features' own `routes` tables, so the document cannot list a
 * route that does not exist. Each feature documents its own routes (`docs`): what only a person
 * can say (summaries, which permission a route needs, responses), keyed by `"METHOD /path"`, and
 * the TypeBox schemas that validate requests (JSON Schema, which OpenAPI 3.1 embeds as is), so
 * the document cannot drift from validation. A route with no entry is still listed, marked
 * `x-undocumented`, reported by {@link buildOpenApi} and logged at start; `test/openapi.test.ts`
 * fails on it, and on any `$ref` to a schema no feature supplied.
 * @module
 */
import type { TSchema } from "@sinclair/typebox";
import pkg from "../../package.json" with { type: "json" };
import type { AppContext } from "../app/context.ts";
import type { Feature } from "../app/feature.ts";
import { ErrorBody, error, type Operation, ref } from "../http/api-docs.ts";
import { HTTP_METHODS } from "../http/routes.ts";
import { opsDocs } from "./ops-docs.ts";

/** The path parameters' rules: a timer id, a session id (watchable as `session:<id>`). */
const PATH_PARAM_SCHEMAS: Record<string, Record<string, unknown>> = {
  id: { type: "integer", minimum: 1 },
  sessionId: { type: "string", pattern: "^[A-Za-z0-9_-]{1,120}$" },
};

/** `/timer/:id/pause` → `/timer/{id}/pause` and its path parameter names. */
function openapiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:(\w+)/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

function queryParameters(schema: TSchema): object[] {
  const required = new Set<string>((schema.required as string[] | undefined) ?? []);
  return Object.entries((schema.properties ?? {}) as Record<string, TSchema>).map(([name, s]) => ({
    name,
    in: "query",
    required: required.has(name),
    ...(s.description ? { description: s.description } : {}),
    schema: s,
  }));
}

function operationObject(method: string, path: string, params: string[], op: Operation, named: (schema: TSchema) => object): object {
  const secured = op.permission !== undefined || op.authenticated === true;
  const responses: Record<string, object> = { ...op.responses };
  if (secured) {
    responses["401"] ??= error("missing, malformed, badly signed or expired token (only when JWT_SECRET is set)");
    responses["403"] ??= error("the token lacks the permission");
  }
  if (op.body) responses["413"] ??= error("body over 64 KiB");
  return {
    operationId: `${method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    summary: op.summary,
    tags: [op.tag],
    ...(op.description || op.permission
      ? { description: [op.description, op.permission ? `Needs ${op.permission} when auth is on.` : ""].filter(Boolean).join(" ") }
      : {}),
    ...(op.permission ? { "x-permission": op.permission } : {}),
    ...(secured ? { security: [{}, { bearer: [] }, { queryToken: [] }] } : {}),
    parameters: [
      ...params.map((name) => ({
        name,
        in: "path",
        required: true,
        schema: PATH_PARAM_SCHEMAS[name] ?? { type: "string", minLength: 1, maxLength: 128 },
      })),
      ...(op.query ? queryParameters(op.query) : []),
      ...(op.queryParams ?? []).map((p) => ({ in: "query", required: false, ...p })),
    ],
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: named(op.body) } } } } : {}),
    responses,
    ...(op.messages ? { "x-websocket-messages": op.messages.map((name) => ref(name)) } : {}),
  };
}

export interface BuiltOpenApi {
  document: Record<string, unknown>;
  /** `"METHOD /path"` of served routes that their feature does not document. */
  undocumented: string[];
}

/** Builds the document from the features' route tables and docs. */
export function buildOpenApi(features: readonly Feature[]): BuiltOpenApi {
  const schemas: Record<string, TSchema> = { Error: ErrorBody };
  for (const feature of features) Object.assign(schemas, feature.docs?.schemas);
  /** A `$ref` when `schema` is a named one (by identity), else the schema inline. */
  const named = (schema: TSchema): object => {
    const name = Object.entries(schemas).find(([, s]) => s === schema)?.[0];
    return name ? { $ref: `#/components/schemas/${name}` } : schema;
  };
  const paths: Record<string, Record<string, object>> = {};
  const undocumented: string[] = [];
  for (const feature of features) {
    for (const [route, methods] of Object.entries(feature.routes ?? {})) {
      const { path, params } = openapiPath(route);
      for (const method of HTTP_METHODS) {
        if (!methods[method]) continue;
        const key = `${method} ${route}`;
        let op: Operation | undefined = feature.docs?.operations?.[key] ?? feature.docs?.fallback?.(method, route);
        if (!op) {
          undocumented.push(key);
          op = { summary: "undocumented", tag: feature.name, responses: { default: { description: "see the source" } } };
        }
        const entry = operationObject(method, path, params, op, named);
        (paths[path] ??= {})[method.toLowerCase()] = op.summary === "undocumented" ? { ...entry, "x-undocumented": true } : entry;
      }
    }
  }
  const document = {
    openapi: "3.1.0",
    info: {
      title: "tickwire",
      version: pkg.version,
      description:
        "Real-time server: cron ticks, game-master timers, SSE chat and a Redis-Stream relay on one hub of topics. " +
        "WebSocket endpoints are listed as GET routes answering 101; their client frames are under `x-websocket-messages`. " +
        "With JWT_SECRET set, tokens (HS256) carry `publish` / `subscribe` topic patterns.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    tags: ["operations", "streams", "timers", "chat", "relay", "browser"].map((name) => ({ name })),
    paths,
    components: {
      schemas: JSON.parse(JSON.stringify(schemas)),
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        queryToken: { type: "apiKey", in: "query", name: "token" },
      },
    },
  };
  return { document, undocumented };
}

/**
 * The `/openapi.json` route. `features` is read when first asked for, so it may be the very
 * array this feature is added to (and so describe itself).
 */
export function openapiFeature(ctx: AppContext, features: Feature[]): Feature {
  let body: string | undefined;
  return {
    name: "openapi",
    docs: opsDocs,
    routes: {
      "/openapi.json": {
        GET: () => {
          body ??= JSON.stringify(buildOpenApi(features).document);
          return new Response(body, { headers: { "Content-Type": "application/json", "Cache-Control": "no-cache" } });
        },
      },
    },
    start() {
      const { undocumented } = buildOpenApi(features);
      if (undocumented.length > 0) ctx.log.warn({ routes: undocumented }, "routes their feature does not document in /openapi.json");
    },
  };
}
