/**
 * What `/openapi.json` says of the operations routes (`/health`, `/metrics`, itself).
 * @module
 */
import { Type } from "@sinclair/typebox";
import { type ApiDocs, json, ref } from "../http/api-docs.ts";

const Health = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("degraded"), Type.Literal("shutting_down")]),
  uptime: Type.Integer({ description: "whole seconds since this process started (rounded)" }),
  connections: Type.Object(
    { ws: Type.Integer({ description: "open WebSocket connections (count)" }), sse: Type.Integer({ description: "open SSE streams (count)" }) },
    { description: "on this instance" },
  ),
  checks: Type.Record(Type.String(), Type.Union([Type.Literal("up"), Type.Literal("down"), Type.Literal("off")]), { description: "db, redis" }),
});

export const opsDocs: ApiDocs = {
  schemas: { Health },
  operations: {
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
  },
};
