/**
 * The settings of presence (`docs/presence.md`): how long a Redis entry lives without a
 * refresh, how many members one answer lists, and which topics announce join/leave frames.
 * @module
 */
import { type TSchema, Type } from "@sinclair/typebox";
import { int, list, type Setting } from "./setting.ts";

export const presenceSettings = {
  presenceTtlMs: {
    env: ["PRESENCE_TTL_MS"],
    schema: Type.Integer({
      minimum: 300,
      maximum: 600_000,
      default: 30_000,
      description:
        "Redis mode: how long an instance's presence entries live unless refreshed (each instance refreshes its own every third of it); a killed instance's members are gone within it",
    }),
    expected: "an integer 300..600000 (ms)",
    parse: int,
  },
  presenceListMax: {
    env: ["PRESENCE_LIST_MAX"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description: "members one presence answer lists at most; `count` stays exact and `truncated` says there are more",
    }),
    expected: "an integer 1..100000",
    parse: int,
  },
  presenceEvents: {
    env: ["PRESENCE_EVENTS"],
    schema: Type.Array(Type.String({ pattern: "^[A-Za-z0-9:_*-]{1,128}$" }), {
      default: ["session:*"],
      description: "topic patterns (`*` wildcard) whose joins and leaves are published on `presence:<topic>` (one durable log entry each); empty = none",
    }),
    expected: "a comma-separated list of topic patterns, e.g. session:*,chat",
    parse: list,
  },
} satisfies Record<string, Setting<TSchema>>;
