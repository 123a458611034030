/**
 * The timer REST API (the seed's paths and shapes): create, read, list, pause, resume, modify,
 * stop. Mutations need publish permission on `timers` when auth is on.
 * @module
 */
import type { BunRequest } from "bun";
import { jsonResponse, notFound } from "../../errors.ts";
import type { AppContext } from "../../server/context.ts";
import type { RouteMethods } from "../../server/feature.ts";
import { readJson, Validator } from "../../server/http-body.ts";
import { CreateTimerBody, ListTimersQuery, ModifyTimerBody } from "./timer-schemas.ts";
import { TIMERS_TOPIC, type TimerService } from "./timer-service.ts";

const createBody = new Validator(CreateTimerBody);
const modifyBody = new Validator(ModifyTimerBody);
const listQuery = new Validator(ListTimersQuery);

/** The `:id` path parameter; anything but a positive integer is an unknown timer (404). */
export function timerIdParam(req: BunRequest): number {
  const raw = (req.params as Record<string, string>).id ?? "";
  const id = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(id >= 1 && id <= 2_147_483_647)) throw notFound(`timer ${JSON.stringify(raw.slice(0, 40))} not found`);
  return id;
}

export function timerRoutes(ctx: AppContext, timers: TimerService): Record<string, RouteMethods> {
  const mutation = (run: (req: BunRequest, id: number) => Promise<unknown>) => async (req: BunRequest) => {
    await ctx.auth.requirePublish(req, TIMERS_TOPIC);
    return jsonResponse(await run(req, timerIdParam(req)));
  };
  return {
    "/timer": {
      POST: async (req) => {
        await ctx.auth.requirePublish(req, TIMERS_TOPIC);
        const { sessionId, maxTime } = createBody.parse(await readJson(req));
        return jsonResponse(await timers.create(sessionId, maxTime), 201);
      },
    },
    "/timer/:id": {
      GET: async (req) => jsonResponse(await timers.get(timerIdParam(req))),
    },
    "/timers": {
      GET: (req) => {
        const sessionId = new URL(req.url).searchParams.get("sessionId");
        const query = listQuery.parse(sessionId === null ? {} : { sessionId }, "query");
        return jsonResponse(timers.list(query.sessionId));
      },
    },
    "/timer/:id/pause": { PUT: mutation((_, id) => timers.pause(id)) },
    "/timer/:id/resume": { PUT: mutation((_, id) => timers.resume(id)) },
    "/timer/:id/modify": {
      PUT: mutation(async (req, id) => {
        const { maxTime } = modifyBody.parse(await readJson(req));
        return timers.modify(id, maxTime);
      }),
    },
    "/timer/:id/stop": {
      PUT: mutation(async (_, id) => {
        await timers.stop(id);
        return { message: "Timer stopped and deleted" };
      }),
    },
  };
}
