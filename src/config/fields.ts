/**
 * The field table: every setting declared once with its environment name(s), TypeBox schema,
 * default and doc, and the {@link Config} type derived from it. Reading and validating the
 * environment against it is `load.ts`.
 * @module
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { limitSettings } from "./limit-fields.ts";
import { presenceSettings } from "./presence-fields.ts";
import { redisSettings } from "./redis-fields.ts";
import { replicaSettings } from "./replica-fields.ts";
import { bool, int, list, type Setting, seconds } from "./setting.ts";

export type { Setting } from "./setting.ts";

/** Every setting: name → env names, schema (with default and description), rule wording. */
export const settings = {
  port: {
    env: ["PORT", "APP_PORT"],
    schema: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: "HTTP/WS/SSE port; 0 picks a free one" }),
    expected: "an integer port 0..65535",
    parse: int,
  },
  host: {
    env: ["HOST"],
    schema: Type.String({ minLength: 1, default: "0.0.0.0", description: "bind address" }),
    expected: "a host name or address",
  },
  appEnv: {
    env: ["APP_ENV"],
    schema: Type.Union([Type.Literal("dev"), Type.Literal("test"), Type.Literal("prod")], { default: "dev", description: "environment" }),
    expected: "one of dev, test, prod",
  },
  databaseUrl: {
    env: ["DATABASE_URL"],
    schema: Type.String({
      pattern: "^(sqlite:.+|mysql://.+)$",
      default: "sqlite:./data/tickwire.db",
      description: "sqlite:<file>, sqlite::memory: or mysql://user:pass@host:3306/db",
    }),
    expected: "sqlite:<file>, sqlite::memory: or mysql://user:pass@host:port/db",
  },
  databaseDsn: {
    env: ["DATABASE_DSN"],
    schema: Type.Optional(Type.String({ pattern: "^[^@]*@tcp\\([^)]+\\)/\\w+", description: "Go-style DSN user:pass@tcp(host:3306)/db?..." })),
    expected: "a DSN like user:pass@tcp(host:3306)/db",
  },
  redisUrl: {
    env: ["REDIS_URL", "REDIS_ADDR"],
    schema: Type.Optional(Type.String({ pattern: "^(rediss?://.+|[^:/\\s]+:\\d+)$", description: "redis://host:6379 or host:port; unset = single instance" })),
    expected: "redis://host:port or host:port",
  },
  jwtSecret: {
    env: ["JWT_SECRET"],
    schema: Type.Optional(
      Type.Array(Type.String({ minLength: 16 }), {
        minItems: 1,
        maxItems: 16,
        description:
          "HS256 secrets, comma-separated: all are accepted, the first signs minted tokens (rotation); unset (with no public key) = auth off (dev only)",
      }),
    ),
    expected: "1..16 comma-separated secrets of at least 16 characters each",
    parse: list,
  },
  jwtPublicKey: {
    env: ["JWT_PUBLIC_KEY"],
    schema: Type.Optional(
      Type.String({ minLength: 1, description: "an RS256 or ES256 public key accepted for tokens: PEM text (SPKI) or the path of a PEM file" }),
    ),
    expected: "PEM text or the path of a PEM file",
  },
  jwtJwksFile: {
    env: ["JWT_JWKS_FILE"],
    schema: Type.Optional(
      Type.String({ minLength: 1, description: "path of a JWKS file (JSON) whose RS256/ES256 keys are accepted for tokens, chosen by `kid`" }),
    ),
    expected: "the path of a JWKS JSON file",
  },
  jwtMaxTtl: {
    env: ["JWT_MAX_TTL"],
    schema: Type.Integer({
      minimum: 1,
      maximum: 366 * 86_400,
      default: 7 * 86_400,
      description: "longest token lifetime accepted (exp - iat), in seconds or like 15m, 24h, 7d; tokens without exp are refused",
    }),
    expected: "a lifetime like 3600, 15m, 24h or 7d (at most 366d)",
    parse: seconds,
  },
  metricsToken: {
    env: ["METRICS_TOKEN"],
    schema: Type.Optional(Type.String({ minLength: 16, description: "when set, GET /metrics requires Authorization: Bearer <METRICS_TOKEN>" })),
    expected: "a token of at least 16 characters",
  },
  tickMs: {
    env: ["TICK_MS"],
    schema: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 1000, description: "ticker period in ms" }),
    expected: "an integer 10..3600000",
    parse: int,
  },
  historySize: {
    env: ["HISTORY_SIZE"],
    schema: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000, description: "events kept per topic log for replay" }),
    expected: "an integer 1..1000000",
    parse: int,
  },
  logLevel: {
    env: ["LOG_LEVEL"],
    schema: Type.Union(
      ["trace", "debug", "info", "warn", "error", "fatal", "silent"].map((l) => Type.Literal(l)),
      {
        default: "info",
        description: "structured JSON log level",
      },
    ),
    expected: "one of trace, debug, info, warn, error, fatal, silent",
  },
  streamPrefix: {
    env: ["STREAM_PREFIX"],
    schema: Type.String({ pattern: "^[A-Za-z0-9:_-]{1,64}$", default: "tickwire", description: "prefix of Redis keys and stream names" }),
    expected: "1..64 of [A-Za-z0-9:_-]",
  },
  backpressureLimit: {
    env: ["WS_BACKPRESSURE_LIMIT"],
    schema: Type.Integer({
      minimum: 1024,
      maximum: 64 * 1024 * 1024,
      default: 1024 * 1024,
      description: "bytes buffered per WebSocket before it counts as backed up; bytes an SSE stream may queue once its socket is backed up",
    }),
    expected: "an integer 1024..67108864 (bytes)",
    parse: int,
  },
  writeDelayMs: {
    env: ["WRITE_DELAY_MS"],
    schema: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 0,
      description:
        "WebSocket write coalescing (like Centrifugo's write delay): frames for one socket within this many ms leave in one write, each still its own message; 0 = every frame at once (lowest latency)",
    }),
    expected: "an integer 0..1000 (ms)",
    parse: int,
  },
  ssePingMs: {
    env: ["SSE_PING_MS"],
    schema: Type.Integer({ minimum: 100, maximum: 300_000, default: 15_000, description: "interval of `: ping` comments on SSE streams" }),
    expected: "an integer 100..300000",
    parse: int,
  },
  allowedOrigins: {
    env: ["ALLOWED_ORIGINS"],
    schema: Type.Array(Type.String({ minLength: 1 }), { default: ["*"], description: "comma-separated browser origins allowed (CORS, WS Origin); * = any" }),
    expected: "a comma-separated list of origins or *",
    parse: list,
  },
  dbQueryTimeoutMs: {
    env: ["DB_QUERY_TIMEOUT_MS"],
    schema: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 5000,
      description:
        "how long a timer query may take before it is abandoned: reads answer 503, writes 504 outcome_unknown (they may still commit, and are then published)",
    }),
    expected: "an integer 100..60000",
    parse: int,
  },
  shutdownDelayMs: {
    env: ["SHUTDOWN_DELAY_MS"],
    schema: Type.Integer({
      minimum: 0,
      maximum: 4000,
      default: 0,
      description:
        "on SIGTERM, report 503 on /health this long before closing connections, so load balancers stop routing first (0 when a preStop hook already waits)",
    }),
    expected: "an integer 0..4000 (ms; the whole shutdown must fit in 5 s)",
    parse: int,
  },
  reusePort: {
    env: ["REUSE_PORT"],
    schema: Type.Boolean({
      default: false,
      description: "SO_REUSEPORT: several tickwire processes on one machine share PORT (join them with REDIS_URL)",
    }),
    expected: "a boolean: 1, true, yes, on, 0, false, no or off",
    parse: bool,
  },
  ...limitSettings,
  ...presenceSettings,
  ...redisSettings,
  ...replicaSettings,
} satisfies Record<string, Setting<TSchema>>;

export type Settings = typeof settings;
export type Config = { [K in keyof Settings]: Static<Settings[K]["schema"]> };
