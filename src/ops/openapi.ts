/**
 * `GET /openapi.json`: an OpenAPI 3.1 document of every HTTP route the features serve.
 *
 * Paths and methods come from the features' own `routes` tables, so the document cannot list a
 * route that does not exist. Request schemas are the TypeBox schemas that validate requests,
 * imported from the features (TypeBox schemas are JSON Schema, which OpenAPI 3.1 embeds as is),
 * so the document cannot drift from validation. What only a person can say (summaries, which
 * permission a route needs, responses) sits in {@link OPERATIONS}, keyed by `"METHOD /path"`. A
 * route missing there is still listed, marked `x-undocumented`, reported by
 * {@link buildOpenApi} and logged at start; `test/openapi.test.ts` fails on it.
 * @module
 */
import { type TSchema, Type } from "@sinclair/typebox";
import pkg from "../../package.json" with { type: "json" };
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from "../features/chat/chat-service.ts";
import { NotifyBody, PostMessageBody, SentMessage } from "../features/chat/schemas.ts";
import { CreateTimerBody, GameMasterCommands, ListTimersQuery, ModifyTimerBody, StopReply, Timer } from "../features/timers/timer-schemas.ts";
import type { AppContext } from "../app/context.ts";
import type { Feature, HttpMethod } from "../app/feature.ts";
import { PingOp, PublishOp, SubscribeOp, UnsubscribeOp } from "../transports/ws/unified.ts";

/** Response-only shapes (nothing validates them on the way in, so they live here). */
const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: "machine-readable, e.g. bad_request, unauthorized, forbidden, not_found" }),
    message: Type.String({ description: "names the field and the rule, e.g. `maxTime: Expected integer`" }),
    field: Type.Optional(Type.String({ description: "the field that was wrong" })),
  }),
});
const Seq = Type.String({ pattern: "^\\d{1,16}-\\d{1,16}$", description: 'topic offset "<ms>-<n>"', examples: ["1700000000000-0"] });
const Health = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("degraded"), Type.Literal("shutting_down")]),
  uptime: Type.Integer({ description: "seconds since start" }),
  connections: Type.Object({ ws: Type.Integer(), sse: Type.Integer() }),
  checks: Type.Record(Type.String(), Type.Union([Type.Literal("up"), Type.Literal("down"), Type.Literal("off")]), { description: "db, redis" }),
});
const ChatFrame = Type.Object({
  topic: Type.Literal("chat"),
  seq: Seq,
  ts: Type.Integer({ description: "epoch ms" }),
  type: Type.String(),
  id: Type.String(),
  content: Type.String(),
  user: Type.String(),
  timestamp: Type.String(),
});
const History = Type.Object({
  messages: Type.Array(ChatFrame, { description: "oldest first" }),
  recovered: Type.Boolean({ description: "false when messages after `since` were already evicted" }),
});
const NotifyReply = Type.Object({ status: Type.Literal("accepted"), seq: Seq });

/** Named schemas, referenced as `#/components/schemas/<name>`. */
const SCHEMAS: Record<string, TSchema> = {
  Error: ErrorBody,
  Health,
  Timer,
  CreateTimerBody,
  ModifyTimerBody,
  StopReply,
  PostMessageBody,
  NotifyBody,
  SentMessage,
  NotifyReply,
  ChatFrame,
  History,
  SubscribeOp,
  UnsubscribeOp,
  PublishOp,
  PingOp,
  ...Object.fromEntries(Object.entries(GameMasterCommands).map(([type, schema]) => [`GameMaster_${type}`, schema])),
};

const ref = (name: keyof typeof SCHEMAS & string) => {
  if (!(name in SCHEMAS)) throw new Error(`openapi: no schema ${name}`);
  return { $ref: `#/components/schemas/${name}` };
};
/** A `$ref` when `schema` is one of {@link SCHEMAS} (by identity), else the schema inline. */
const named = (schema: TSchema): object => {
  const name = Object.entries(SCHEMAS).find(([, s]) => s === schema)?.[0];
  return name ? ref(name) : schema;
};
const json = (description: string, schema: object) => ({ description, content: { "application/json": { schema } } });
const error = (description: string) => json(description, ref("Error"));

interface Operation {
  summary: string;
  tag: string;
  description?: string;
  /** Topic permission the token needs (publish or subscribe), when `JWT_SECRET` is set. */
  permission?: string;
  /** `true`: the token is checked (401 on a bad one) but the permission depends on the request. */
  authenticated?: boolean;
  body?: TSchema;
  query?: TSchema;
  /** Query parameters that are not a validated object (SSE, WebSocket). */
  queryParams?: { name: string; description: string; schema: object; required?: boolean }[];
  responses: Record<string, object>;
  /** For WebSocket routes: what the client may send, by schema name. */
  messages?: string[];
}

const websocket = (what: string, extra: Partial<Operation> & { tag: string }): Operation => ({
  summary: `WebSocket: ${what}`,
  ...extra,
  responses: {
    "101": { description: "switched to WebSocket; a refused token closes the socket with 4401 (bad or missing) or 4403 (no permission)" },
    "400": error("bad path or query parameter"),
    "403": error("a browser page of an origin not in ALLOWED_ORIGINS"),
    "426": error("not an Upgrade: websocket request"),
    ...extra.responses,
  },
});

const sinceParam = { name: "since", description: "replay retained events after this seq, then live", schema: Seq };

/** What the routes do, keyed by `"METHOD /path"` with Bun's `:param` path syntax. */
export const OPERATIONS: Record<string, Operation> = {
  "GET /health": {
    summary: "Liveness and readiness: 503 while a dependency is down or while draining",
    tag: "operations",
    responses: { "200": json("healthy", ref("Health")), "503": json("a dependency is down, or shutting down", ref("Health")) },
  },
  "GET /metrics": {
    summary: "Prometheus metrics",
    tag: "operations",
    responses: { "200": { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } } },
  },
  "GET /openapi.json": {
    summary: "This document",
    tag: "operations",
    responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } },
  },
  "GET /events": {
    summary: "Server-Sent Events on one or more topics",
    tag: "streams",
    description: "Each event is `id: <seq>` + `data: <frame JSON>`; `retry: 3000`; `: ping` every 15 s. Resumes after `Last-Event-ID` (header) or `?lastEventId=`.",
    permission: "subscribe on every topic asked for",
    queryParams: [
      { name: "topics", description: "comma-separated topics (1..64), default `chat`", schema: { type: "string", default: "chat" } },
      { name: "lastEventId", description: "resume after this seq (the `Last-Event-ID` header wins)", schema: Seq },
      { name: "client_id", description: "free-form client id, for logs", schema: { type: "string" } },
      { name: "token", description: "JWT, for EventSource which cannot set headers", schema: { type: "string" } },
    ],
    responses: {
      "200": { description: "event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
      "400": error("bad topic or Last-Event-ID"),
    },
  },
  "GET /ws": websocket("the cron seed endpoint and the unified endpoint", {
    tag: "streams",
    description: "No `?topics=`: `cron` frames every tick. In-band ops, each answered `ack` or `error`.",
    authenticated: true,
    queryParams: [
      { name: "topics", description: "comma-separated topics to subscribe at connect (default `cron`)", schema: { type: "string" } },
      sinceParam,
      { name: "token", description: "JWT", schema: { type: "string" } },
    ],
    messages: ["SubscribeOp", "UnsubscribeOp", "PublishOp", "PingOp"],
  }),
  "POST /timer": {
    summary: "Create a timer (running)",
    tag: "timers",
    permission: "publish on timers",
    body: CreateTimerBody,
    responses: { "201": json("created", ref("Timer")), "400": error("bad body, naming the field") },
  },
  "GET /timer/:id": {
    summary: "One timer",
    tag: "timers",
    permission: "subscribe on timer:<id>, session:<sessionId> or timers",
    responses: { "200": json("the timer", ref("Timer")), "404": error("no such timer") },
  },
  "GET /timers": {
    summary: "List timers, optionally of one session",
    tag: "timers",
    permission: "subscribe on session:<sessionId> (with ?sessionId=) or timers (without)",
    query: ListTimersQuery,
    responses: { "200": json("timers", { type: "array", items: ref("Timer") }), "400": error("bad sessionId") },
  },
  "PUT /timer/:id/pause": {
    summary: "Pause (idempotent)",
    tag: "timers",
    permission: "publish on timers",
    responses: { "200": json("the timer", ref("Timer")), "404": error("no such timer") },
  },
  "PUT /timer/:id/resume": {
    summary: "Resume (idempotent)",
    tag: "timers",
    permission: "publish on timers",
    responses: { "200": json("the timer", ref("Timer")), "404": error("no such timer") },
  },
  "PUT /timer/:id/modify": {
    summary: "Change maxTime; below the current time finishes the timer at once",
    tag: "timers",
    permission: "publish on timers",
    body: ModifyTimerBody,
    responses: { "200": json("the timer", ref("Timer")), "400": error("bad body"), "404": error("no such timer") },
  },
  "PUT /timer/:id/stop": {
    summary: "Stop and delete",
    tag: "timers",
    permission: "publish on timers",
    responses: { "200": json("deleted", ref("StopReply")), "404": error("no such timer") },
  },
  "GET /ws/customer/:sessionId": websocket("a customer's view of one session's timers (topic `session:<sessionId>`)", {
    tag: "timers",
    permission: "subscribe on session:<sessionId>",
    queryParams: [sinceParam, { name: "token", description: "JWT", schema: { type: "string" } }],
  }),
  "GET /ws/gamemaster/:sessionId": websocket("a game master: every timer event, and timer commands", {
    tag: "timers",
    permission: "subscribe on timers (commands: publish on timers, else an error frame `forbidden`)",
    queryParams: [sinceParam, { name: "token", description: "JWT", schema: { type: "string" } }],
    messages: Object.keys(GameMasterCommands).map((t) => `GameMaster_${t}`),
  }),
  "GET /ws/manager": websocket("relay manager: each text frame is appended to `relay`, answered `{op:ack,seq}`", {
    tag: "relay",
    permission: "publish on relay",
    queryParams: [{ name: "token", description: "JWT", schema: { type: "string" } }],
  }),
  "GET /ws/broadcast": websocket("relay broadcaster: every manager message verbatim, in log order", {
    tag: "relay",
    permission: "subscribe on relay",
    queryParams: [sinceParam, { name: "token", description: "JWT", schema: { type: "string" } }],
  }),
  "GET /ws/broadcaster": websocket("alias of /ws/broadcast", {
    tag: "relay",
    permission: "subscribe on relay",
    queryParams: [sinceParam, { name: "token", description: "JWT", schema: { type: "string" } }],
  }),
  "POST /messages": {
    summary: "Post a chat message (stored in the chat log, then delivered on `chat`)",
    tag: "chat",
    permission: "publish on chat",
    body: PostMessageBody,
    responses: {
      "201": json("stored", ref("SentMessage")),
      "400": error("bad body, naming the field"),
      "413": error("body over 64 KiB"),
      "503": error("append queue full or log unavailable; retry after Retry-After"),
    },
  },
  "GET /messages": {
    summary: "Retained chat history",
    tag: "chat",
    permission: "subscribe on chat",
    queryParams: [
      { name: "since", description: "messages after this seq (paging forward); absent: the newest `limit`", schema: Seq },
      { name: "limit", description: "at most this many", schema: { type: "integer", minimum: 1, maximum: MAX_HISTORY_LIMIT, default: DEFAULT_HISTORY_LIMIT } },
    ],
    responses: { "200": json("history", ref("History")), "400": error("bad since or limit") },
  },
  "POST /notify": {
    summary: "The seed's internal broadcast: a message built elsewhere, delivered on `chat`",
    tag: "chat",
    permission: "publish on chat",
    body: NotifyBody,
    responses: { "202": json("accepted", ref("NotifyReply")), "400": error("bad body"), "503": error("log unavailable; retry") },
  },
};

/** The browser client's files (the `web` feature) are documented by one rule, not one by one. */
function staticOperation(path: string): Operation {
  const ext = /\.(\w+)$/.exec(path)?.[1] ?? (path.includes(":") ? "js" : "html");
  const type = { html: "text/html", css: "text/css", js: "text/javascript", svg: "image/svg+xml", png: "image/png" }[ext] ?? "application/octet-stream";
  return {
    summary: path === "/" ? "The browser client" : `Browser client asset`,
    tag: "browser",
    responses: { "200": { description: "the file", content: { [type]: { schema: { type: "string" } } } }, "404": error("no such file") },
  };
}

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

function operationObject(method: string, path: string, params: string[], op: Operation): object {
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
      ...params.map((name) => ({ name, in: "path", required: true, schema: name === "id" ? { type: "integer", minimum: 1 } : { type: "string", minLength: 1, maxLength: 128 } })),
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
  /** `"METHOD /path"` of served routes with no entry in {@link OPERATIONS}. */
  undocumented: string[];
}

const METHODS: HttpMethod[] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/** Builds the document from the features' route tables. */
export function buildOpenApi(features: Feature[]): BuiltOpenApi {
  const paths: Record<string, Record<string, object>> = {};
  const undocumented: string[] = [];
  for (const feature of features) {
    for (const [route, methods] of Object.entries(feature.routes ?? {})) {
      const { path, params } = openapiPath(route);
      for (const method of METHODS) {
        if (!methods[method]) continue;
        const key = `${method} ${route}`;
        let op = OPERATIONS[key];
        if (!op && feature.name === "web" && method === "GET") op = staticOperation(route);
        if (!op) {
          undocumented.push(key);
          op = { summary: "undocumented", tag: feature.name, responses: { default: { description: "see the source" } } };
        }
        const entry = operationObject(method, path, params, op);
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
      schemas: JSON.parse(JSON.stringify(SCHEMAS)),
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
      if (undocumented.length > 0) ctx.log.warn({ routes: undocumented }, "routes missing from /openapi.json's OPERATIONS");
    },
  };
}
