/**
 * `/health` and `/metrics`. Health is 503 while a dependency check fails or while draining;
 * `/metrics` asks for `METRICS_TOKEN` as a bearer token when one is set.
 * @module
 */

import type { AppContext } from "../app/context.ts";
import type { Feature } from "../app/feature.ts";
import { jsonResponse } from "../http/errors.ts";
import { runChecks } from "./checks.ts";
import { requireMetricsToken } from "./metrics-token.ts";
import { opsDocs } from "./ops-docs.ts";

export { runChecks } from "./checks.ts";

export interface HealthSources {
  startedAt: number;
  wsConnections(): number;
  sseConnections(): number;
  draining(): boolean;
}

export function healthFeature(ctx: AppContext, src: HealthSources): Feature {
  return {
    name: "health",
    docs: opsDocs,
    routes: {
      "/health": {
        GET: async () => {
          const checks = await runChecks(ctx);
          const draining = src.draining();
          const ok = !draining && Object.values(checks).every((c) => c !== "down");
          return jsonResponse(
            {
              status: draining ? "shutting_down" : ok ? "ok" : "degraded",
              uptime: Math.round((ctx.clock.now() - src.startedAt) / 1000),
              connections: { ws: src.wsConnections(), sse: src.sseConnections() },
              checks,
            },
            ok ? 200 : 503,
          );
        },
      },
      "/metrics": {
        GET: async (req) => {
          requireMetricsToken(req, ctx.config.metricsToken);
          return new Response(await ctx.metrics.text(), { headers: { "Content-Type": ctx.metrics.contentType } });
        },
      },
    },
  };
}
