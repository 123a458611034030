/**
 * Fuzz: thousands of generated malformed HTTP requests and WebSocket frames (wrong types,
 * missing fields, huge values, invalid UTF-8, deep JSON, unknown ops, wrong methods) in both
 * storage modes. The invariant: no crash, no 5xx, every error response is a JSON error naming
 * a code, and the server is healthy afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const HTTP_CASES = 7_000;
const WS_FRAMES = 3_000;

/** A seeded PRNG (mulberry32) so that a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const deepArray = (n: number) => "[".repeat(n) + "]".repeat(n);
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;

/** Values of every wrong kind. */
const values: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER,
  "",
  "x",
  "x".repeat(5000),
  "ü😀\u0000",
  [],
  [1, 2],
  {},
  { a: 1 },
  "1700000000000-0",
  "../../etc/passwd",
  "<script>",
  "' OR 1=1 --",
  604801,
  0.5,
  "12",
];

function randomBody(rand: () => number): string | Uint8Array | undefined {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  switch (Math.floor(rand() * 9)) {
    case 0:
      return undefined;
    case 1:
      return "{not json";
    case 2:
      return new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // invalid UTF-8
    case 3:
      return deepArray(1 + Math.floor(rand() * 20_000));
    case 4:
      return deepObject(1 + Math.floor(rand() * 5_000));
    case 5:
      return "x".repeat(64 * 1024 + 1 + Math.floor(rand() * 1000)); // over the body limit
    case 6:
      return JSON.stringify(pick(values));
    default: {
      const keys = ["sessionId", "maxTime", "content", "user", "id", "timestamp", "type", "since", "limit"];
      const obj: Record<string, unknown> = {};
      for (const k of keys) if (rand() < 0.5) obj[k] = pick(values);
      return JSON.stringify(obj);
    }
  }
}

/** A method and path: usually the route's own method (to reach body validation), sometimes not. */
function randomRequest(rand: () => number): [string, string] {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const ids = ["1", "0", "-1", "abc", "99999999999999999999999", "1.5", "%00", "%ff", "1e3", "", "0x10", String(Math.floor(rand() * 1e6))];
  const queries = [
    "",
    "?since=abc",
    "?since=-1",
    "?limit=-5",
    "?limit=abc",
    "?limit=1000000",
    "?sessionId=",
    `?sessionId=${"s".repeat(300)}`,
    "?topics=bad topic",
    "?lastEventId=zz",
    "?since=1700000000000-0&limit=5",
  ];
  const routes: [string, string][] = [
    ["POST", "/timer"],
    ["GET", `/timer/${pick(ids)}`],
    ["PUT", `/timer/${pick(ids)}/pause`],
    ["PUT", `/timer/${pick(ids)}/resume`],
    ["PUT", `/timer/${pick(ids)}/modify`],
    ["PUT", `/timer/${pick(ids)}/stop`],
    ["PUT", `/timer/${pick(ids)}/explode`],
    ["GET", "/timers"],
    ["POST", "/messages"],
    ["GET", "/messages"],
    ["POST", "/notify"],
    ["GET", "/health"],
    ["GET", "/nope"],
    ["PUT", "/timer//pause"],
    ["GET", "/%2e%2e/etc"],
    ["GET", `/${"a".repeat(3000)}`],
    ["GET", "/ws/manager"],
    ["GET", "/ws/customer/x"],
    ["GET", "/ws/gamemaster/x"],
  ];
  const [method, path] = pick(routes);
  const methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
  return [rand() < 0.8 ? method : pick(methods), path + pick(queries)];
}

async function fuzzHttp(app: Tickwire, seed: number): Promise<{ sent: number; statuses: Record<number, number> }> {
  const rand = prng(seed);
  const statuses: Record<number, number> = {};
  const failures: string[] = [];
  let sent = 0;
  const one = async () => {
    const [method, path] = randomRequest(rand);
    const body = method === "GET" ? undefined : randomBody(rand);
    const headers: Record<string, string> = { "Content-Type": rand() < 0.8 ? "application/json" : "text/plain" };
    if (rand() < 0.1) headers["Last-Event-ID"] = "garbage";
    const res = await fetch(`${app.url}${path}`, { method, body, headers });
    sent++;
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    const type = res.headers.get("content-type") ?? "";
    const text = await res.text();
    if (res.status >= 500) failures.push(`${method} ${path.slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`);
    if (res.status >= 400) {
      let parsed: any;
      try {
        parsed = JSON.parse(text);
      } catch {}
      if (!type.startsWith("application/json") || typeof parsed?.error?.code !== "string" || typeof parsed?.error?.message !== "string") {
        failures.push(`${method} ${path.slice(0, 80)} → ${res.status} not a JSON error: ${text.slice(0, 120)}`);
      }
    }
  };
  // A few requests in flight at once, like real clients.
  for (let i = 0; i < HTTP_CASES; i += 8) await Promise.all(Array.from({ length: Math.min(8, HTTP_CASES - i) }, one));
  expect(failures.slice(0, 10)).toEqual([]);
  return { sent, statuses };
}

function randomFrame(rand: () => number): string | Uint8Array {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  switch (Math.floor(rand() * 8)) {
    case 0:
      return "{not json";
    case 1:
      return new Uint8Array([0xff, 0xfe, 0x00, 0x01]);
    case 2:
      return deepArray(1 + Math.floor(rand() * 10_000));
    case 3:
      return JSON.stringify({
        op: pick(["subscribe", "unsubscribe", "publish", "ping", "dance", 42, null]),
        topic: pick(values),
        since: pick(values),
        data: pick(values),
      });
    case 4:
      return JSON.stringify({
        type: pick(["TIMER_CREATE", "TIMER_PAUSE", "TIMER_MODIFY", "TIMER_STOP", "NOPE", 7]),
        payload: pick([...values, { id: pick(values), maxTime: pick(values), sessionId: pick(values) }]),
      });
    case 5:
      return JSON.stringify(pick(values));
    case 6:
      return "x".repeat(70 * 1024);
    default:
      return "";
  }
}

async function fuzzWs(app: Tickwire, seed: number): Promise<number> {
  const rand = prng(seed);
  const endpoints = ["/ws?topics=chat", "/ws/gamemaster/fuzz", "/ws/customer/fuzz", "/ws/manager", "/ws/broadcast"];
  let sent = 0;
  let i = 0;
  while (sent < WS_FRAMES) {
    // Nine frames per socket stays under the 10-a-second malformed limit, then a ping proves it is alive.
    const path = endpoints[i++ % endpoints.length]!;
    const client = wsClient(wsUrl(app, path));
    await client.opened;
    for (let k = 0; k < 9 && sent < WS_FRAMES; k++, sent++) client.send(randomFrame(rand));
    if (path.startsWith("/ws?")) {
      client.send({ op: "ping", ref: "alive" });
      await client.next((f) => f?.op === "ack" && f.ref === "alive");
    }
    client.close();
    await client.closed;
  }
  return sent;
}

for (const mode of MODES) {
  describe(`fuzz (${mode.name})`, () => {
    let app: Tickwire;
    beforeAll(async () => {
      app = await startServer(mode.env(uniquePrefix("fuzz")));
    });
    afterAll(() => app.stop());

    it(`answers ${HTTP_CASES} malformed HTTP requests with no 5xx and only JSON errors`, async () => {
      const { sent, statuses } = await fuzzHttp(app, 1234);
      console.log(`statuses (${mode.name}):`, JSON.stringify(statuses));
      expect(sent).toBe(HTTP_CASES);
      expect(Object.keys(statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    }, 120_000);

    it(`survives ${WS_FRAMES} malformed WebSocket frames and stays healthy`, async () => {
      expect(await fuzzWs(app, 99)).toBe(WS_FRAMES);
      const health = await fetch(`${app.url}/health`);
      expect(health.status).toBe(200);
    }, 120_000);
  });
}
