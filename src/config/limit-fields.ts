/**
 * The settings that bound what one client may hold or do (`docs/operations.md` has the table):
 * topics and frames per connection, publishes, timers, connections per address, replays.
 * @module
 */
import { type TSchema, Type } from "@sinclair/typebox";
import { int, type Setting } from "./setting.ts";

export const limitSettings = {
  maxTopicsPerConnection: {
    env: ["MAX_TOPICS_PER_CONNECTION"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 128,
      description: "topics one WebSocket or SSE connection may be subscribed to; more answer limit_exceeded",
    }),
    expected: "an integer 1..100000",
    parse: int,
  },
  wsPublishesPerSecond: {
    env: ["WS_PUBLISHES_PER_SECOND"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 500,
      description: "publishes (publish ops, /ws/manager frames, game-master commands) one WebSocket may send per second; each one past it answers rate_limited",
    }),
    expected: "an integer 1..1000000",
    parse: int,
  },
  timersPerSession: {
    env: ["TIMERS_PER_SESSION"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 100,
      description: "timers one session may have; creating more answers 429 limit_exceeded",
    }),
    expected: "an integer 1..1000000",
    parse: int,
  },
  timersMax: {
    env: ["TIMERS_MAX"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 10_000_000,
      default: 20_000,
      description: "timers in total, across sessions and instances; creating more answers 429 limit_exceeded",
    }),
    expected: "an integer 1..10000000",
    parse: int,
  },
  idempotencyKeysPerSub: {
    env: ["IDEMPOTENCY_KEYS_PER_SUB"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 10_000_000,
      default: 10_000,
      description:
        "answers stored under Idempotency-Keys per token sub (anonymous callers share one): past it the oldest go once an hour old; a change that would need a younger one to go answers 429 limit_exceeded",
    }),
    expected: "an integer 1..10000000",
    parse: int,
  },
  maxConnectionsPerAddress: {
    env: ["MAX_CONNECTIONS_PER_ADDRESS"],
    schema: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description:
        "open WebSocket + SSE connections one client address may hold on one instance; 0 = no limit (behind a proxy every client shares its address)",
    }),
    expected: "an integer 0..1000000 (0 = off)",
    parse: int,
  },
  wsOpsPerSecond: {
    env: ["WS_OPS_PER_SECOND"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description:
        "frames (in-band ops, ping and refresh included) one WebSocket may send per second, on any endpoint; past it one rate_limited error and the rest dropped, past twice it closed with 1008 (/ws/manager frames count as publishes instead; its refresh ops past it are answered rate_limited, each in its turn)",
    }),
    expected: "an integer 1..100000",
    parse: int,
  },
  replayRate: {
    env: ["REPLAY_RATE"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 2,
      description:
        "replays (subscribe with since, SSE resume) one token subject (or, with auth off, one connection) may start per second, on average; more answer rate_limited",
    }),
    expected: "an integer 1..10000",
    parse: int,
  },
  replayBurst: {
    env: ["REPLAY_BURST"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 10,
      description: "replays one token subject (or connection) may start at once after being idle",
    }),
    expected: "an integer 1..10000",
    parse: int,
  },
  replayMaxConcurrent: {
    env: ["REPLAY_MAX_CONCURRENT"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 256,
      description: "history reads from the store (outside the in-memory window) in progress at once on one instance; more answer replay_busy",
    }),
    expected: "an integer 1..100000",
    parse: int,
  },
} satisfies Record<string, Setting<TSchema>>;
