/**
 * The timer REST API (the seed's paths and shapes): create, read, list, pause, resume, modify,
 * stop. With auth on, changes need publish permission on `timers` (checked before the timer is
 * looked up); reads need subscribe permission on what they show (`timers` for the full list,
 * `session:<id>` for a session's), and a timer the caller may not see is answered like a missing
 * one (404), so ids cannot be enumerated.
 * @module
 */
import type { BunRequest } from "bun";
import type { AppContext } from "../../app/context.ts";
import type { RouteMethods } from "../../app/feature.ts";
import { canSubscribe } from "../../auth/access.ts";
import { readJson, Validator } from "../../http/body.ts";
import { HttpError, jsonResponse, notFound } from "../../http/errors.ts";
import { jsonArrayResponse } from "../../http/json-array.ts";
import { idempotent } from "./idempotency.ts";
import { CreateTimerBody, ListTimersQuery, ModifyTimerBody } from "./timer-schemas.ts";
import { type Idempotency, TIMERS_TOPIC, type TimerService } from "./timer-service.ts";
import type { TimerView } from "./timer-state.ts";

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
  /** A change of one timer: `input` reads and validates the body, `run` makes the change. */
  const mutation =
    <I>(change: {
      input?: (req: BunRequest) => Promise<I>;
      render?: (view: TimerView) => unknown;
      run: (id: number, input: I, idem?: Idempotency) => Promise<TimerView>;
    }) =>
    async (req: BunRequest) => {
      const principal = await ctx.auth.requirePublish(req, TIMERS_TOPIC);
      const id = timerIdParam(req);
      const input = change.input ? await change.input(req) : (undefined as I);
      return idempotent(req, principal, timers, input, {
        status: 200,
        render: change.render ?? ((view) => view),
        run: (idem) => change.run(id, input, idem),
      });
    };
  return {
    "/timer": {
      POST: async (req) => {
        const principal = await ctx.auth.requirePublish(req, TIMERS_TOPIC);
        const input = createBody.parse(await readJson(req));
        return idempotent(req, principal, timers, input, {
          status: 201,
          render: (view) => view,
          run: (idem) => timers.create(input.sessionId, input.maxTime, idem),
        });
      },
    },
    "/timer/:id": {
      GET: async (req) => {
        const principal = await ctx.auth.principal(req);
        const id = timerIdParam(req);
        // Permission before existence: a timer the caller may not watch gets the very answer a
        // missing one gets (built here for both), so ids cannot be enumerated.
        const hidden = () => notFound(`timer ${id} not found`);
        const timer = await timers.get(id).catch((error: unknown) => {
          throw error instanceof HttpError && error.status === 404 ? hidden() : error;
        });
        // Readable by whoever may watch it: its own topic, its session's, or all timers.
        if (![`timer:${id}`, `session:${timer.sessionId}`, TIMERS_TOPIC].some((topic) => canSubscribe(principal, topic))) throw hidden();
        return jsonResponse(timer);
      },
    },
    "/timers": {
      GET: async (req) => {
        const sessionId = new URL(req.url).searchParams.get("sessionId");
        const query = listQuery.parse(sessionId === null ? {} : { sessionId }, "query");
        await ctx.auth.requireSubscribe(req, query.sessionId === undefined ? TIMERS_TOPIC : `session:${query.sessionId}`);
        // Rendered a slice per turn: up to TIMERS_MAX timers must not hold the event loop.
        const { states, view } = timers.list(query.sessionId);
        return jsonArrayResponse(states, view);
      },
    },
    "/timer/:id/pause": { PUT: mutation({ run: (id, _, idem) => timers.pause(id, idem) }) },
    "/timer/:id/resume": { PUT: mutation({ run: (id, _, idem) => timers.resume(id, idem) }) },
    "/timer/:id/modify": {
      PUT: mutation({
        input: async (req) => modifyBody.parse(await readJson(req)),
        run: (id, { maxTime }, idem) => timers.modify(id, maxTime, idem),
      }),
    },
    "/timer/:id/stop": {
      PUT: mutation({ render: () => ({ message: "Timer stopped and deleted" }), run: (id, _, idem) => timers.stop(id, idem) }),
    },
  };
}
