/**
 * What a route table says about itself for `/openapi.json`: each feature and transport
 * documents its own routes ({@link ApiDocs}) with the TypeBox schemas that validate them, and
 * `ops/openapi.ts` assembles the document. Helpers here build the common parts.
 * @module
 */
import { type TSchema, Type } from "@sinclair/typebox";

/** What a route does, as only a person can say it. */
export interface Operation {
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

/** A route table's documentation. */
export interface ApiDocs {
  /** Named schemas, referenced as `#/components/schemas/<name>`. */
  schemas?: Record<string, TSchema>;
  /** Keyed by `"METHOD /path"` with Bun's `:param` path syntax. */
  operations?: Record<string, Operation>;
  /** Documents a served route with no entry in `operations` (e.g. static files). */
  fallback?(method: string, path: string): Operation | undefined;
}

export const Seq = Type.String({
  pattern: "^\\d{1,16}-\\d{1,16}(\\.\\d{1,20})?$",
  description: 'topic offset "<ms>-<n>" (durable) or "<ms>-<n>.<k>" (ephemeral frame after that position)',
  examples: ["1700000000000-1"],
});

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: "machine-readable, e.g. bad_request, unauthorized, forbidden, not_found" }),
    message: Type.String({ description: "names the field and the rule, e.g. `maxTime: Expected integer`" }),
    field: Type.Optional(Type.String({ description: "the field that was wrong" })),
  }),
});

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (description: string, schema: object) => ({ description, content: { "application/json": { schema } } });
export const error = (description: string) => json(description, ref("Error"));

export const sinceQuery = { name: "since", description: "replay retained events after this seq, then live", schema: Seq };
export const tokenQuery = { name: "token", description: "JWT", schema: { type: "string" } };

/** A WebSocket route: a GET answering 101, with the refusals every upgrade shares. */
export function websocket(what: string, extra: Partial<Operation> & { tag: string }): Operation {
  return {
    summary: `WebSocket: ${what}`,
    ...extra,
    responses: {
      "101": {
        description:
          "switched to WebSocket; a refused token closes the socket with 4401 (bad or missing) or 4403 (no permission), and the token's expiry closes it with 4401 unless refreshed with {op:refresh}",
      },
      "400": error("bad path or query parameter"),
      "403": error("a browser page of an origin not in ALLOWED_ORIGINS"),
      "426": error("not an Upgrade: websocket request"),
      "429": error("limit_exceeded: more topics than MAX_TOPICS_PER_CONNECTION, or the address holds MAX_CONNECTIONS_PER_ADDRESS connections (Retry-After)"),
      ...extra.responses,
    },
  };
}
