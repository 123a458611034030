/**
 * The auth matrix (SPEC §10): every protected action × {no token, malformed, wrong signature,
 * expired, a token without the permission, a token with it} → the right HTTP status or
 * WebSocket close code / error frame, in both storage modes. Then: a customer token sees its own
 * session only; auth off warns, `APP_ENV=prod` without a secret exits 2; `bun run token` mints
 * working tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { jwtVerify } from "jose";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, spawnServer, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const SECRET = "auth-matrix-secret-0123456789";
const ROOT = `${import.meta.dir}/..`;

type TokenKind = "none" | "malformed" | "wrong signature" | "expired" | "without permission" | "with permission";
const KINDS: TokenKind[] = ["none", "malformed", "wrong signature", "expired", "without permission", "with permission"];

interface Grants {
  publish?: string[];
  subscribe?: string[];
}

interface Action {
  name: string;
  /** What the token of "with permission" holds. */
  having: Grants;
  /** What the token of "without permission" holds: near misses (`*` patterns that must not match) and everything else. */
  lacking: Grants;
  /** Performs the action with `token` and says what happened: "201", "401 unauthorized", "4403", "ack", "error forbidden"... */
  run(token: string | undefined): Promise<string>;
  /** Outcome for a token with the permission. */
  ok: string;
  /** Outcomes for bad tokens and for a token without the permission (HTTP or WebSocket). */
  transport: "http" | "upgrade" | "in-band";
  /** Outcome for a token without the permission, when it is not the transport's usual refusal. */
  lackingOutcome?: string;
}

async function tokenOf(kind: TokenKind, action: Action): Promise<string | undefined> {
  const everything = { publish: ["*"], subscribe: ["*"] };
  switch (kind) {
    case "none":
      return undefined;
    case "malformed":
      return "not-a-jwt";
    case "wrong signature":
      return mintToken("another-secret-0123456789abcdef", { sub: "mallory", ...everything });
    case "expired":
      return mintToken(SECRET, { sub: "late", ...everything, expiresIn: -10 });
    case "without permission":
      return mintToken(SECRET, { sub: "lacking", ...action.lacking });
    case "with permission":
      return mintToken(SECRET, { sub: "having", ...action.having });
  }
}

function expected(kind: TokenKind, action: Action): string {
  if (kind === "with permission") return action.ok;
  if (kind === "without permission" && action.lackingOutcome) return action.lackingOutcome;
  const refused = kind === "without permission" ? 403 : 401;
  if (action.transport === "http") return refused === 401 ? "401 unauthorized" : "403 forbidden";
  if (action.transport === "upgrade") return String(refused + 4000);
  // In-band: the connection itself needs a valid token; the op answers an error frame.
  return refused === 401 ? "4401" : "error forbidden";
}

/** Opens `url` and resolves with the close code if the server closes it, else with `reply()` of the open socket. */
async function onSocket(url: string, reply: (client: WsTestClient) => Promise<string>): Promise<string> {
  const client = wsClient(url);
  try {
    const closed = client.closed.then(({ code }) => String(code));
    const opened = await Promise.race([client.opened.then(() => "open"), closed]);
    if (opened !== "open") return opened;
    const answer = reply(client);
    answer.catch(() => {});
    return await Promise.race([closed, answer]);
  } finally {
    client.close();
  }
}

/** Any reply proves the socket open and served (every endpoint but broadcasters answers text). */
const answersAnything = async (c: WsTestClient) => {
  c.send("hello");
  await c.next();
  return "open";
};

const frameOutcome = (f: any) => (f.op === "ack" ? "ack" : `error ${f.code}`);

for (const mode of MODES) {
  describe(`auth matrix (${mode.name})`, () => {
    const prefix = uniquePrefix("authm");
    const session = `${prefix}-s`;
    const other = `${prefix}-other`;
    let app: Tickwire;
    let admin: string;
    const http = async (method: string, path: string, token: string | undefined, body?: unknown, viaQuery = false): Promise<string> => {
      const headers: Record<string, string> = body === undefined ? {} : { "Content-Type": "application/json" };
      if (token !== undefined && !viaQuery) headers.Authorization = `Bearer ${token}`;
      const sep = path.includes("?") ? "&" : "?";
      const url = `${app.url}${path}${token !== undefined && viaQuery ? `${sep}token=${encodeURIComponent(token)}` : ""}`;
      const abort = new AbortController();
      const res = await fetch(url, { method, headers, signal: abort.signal, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (res.status < 400) {
        abort.abort();
        return String(res.status);
      }
      const json = (await res.json()) as any;
      return `${res.status} ${json.error.code}`;
    };
    const createTimer = async (sessionId: string): Promise<number> => {
      const res = await fetch(`${app.url}/timer`, {
        method: "POST",
        headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
        body: JSON.stringify({ sessionId, maxTime: 3600 }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as any).id;
    };
    let timerId: number;
    let stopId: number;
    let publisher: WsTestClient;
    let relayCount = 0;

    beforeAll(async () => {
      app = await startServer({ ...mode.env(prefix), JWT_SECRET: SECRET, TICK_MS: "100" });
      admin = await mintToken(SECRET, { sub: "admin", publish: ["*"], subscribe: ["*"] });
      timerId = await createTimer(session);
      stopId = await createTimer(session);
      publisher = wsClient(wsUrl(app, `/ws?topics=relay&token=${admin}`));
      await publisher.opened;
    });
    afterAll(async () => {
      publisher?.close();
      // Leave no timers behind in the shared MySQL database.
      for (const sessionId of [session, other]) {
        const listed = await fetch(`${app.url}/timers?sessionId=${sessionId}`, { headers: { Authorization: `Bearer ${admin}` } });
        const timers = (await listed.json()) as { id: number }[];
        for (const { id } of timers) await fetch(`${app.url}/timer/${id}/stop`, { method: "PUT", headers: { Authorization: `Bearer ${admin}` } });
      }
      await app?.stop();
    });

    const timerPublish: Pick<Action, "having" | "lacking"> = {
      having: { publish: ["timers"], subscribe: [] },
      lacking: { publish: ["timer*x", "timers:*", "chat", "relay"], subscribe: ["*"] },
    };
    const actions: Action[] = [
      { name: "POST /timer", ...timerPublish, transport: "http", ok: "201", run: (t) => http("POST", "/timer", t, { sessionId: session, maxTime: 60 }) },
      { name: "PUT /timer/:id/pause", ...timerPublish, transport: "http", ok: "200", run: (t) => http("PUT", `/timer/${timerId}/pause`, t) },
      { name: "PUT /timer/:id/resume", ...timerPublish, transport: "http", ok: "200", run: (t) => http("PUT", `/timer/${timerId}/resume`, t) },
      {
        name: "PUT /timer/:id/modify",
        ...timerPublish,
        transport: "http",
        ok: "200",
        run: (t) => http("PUT", `/timer/${timerId}/modify`, t, { maxTime: 7200 }),
      },
      { name: "PUT /timer/:id/stop", ...timerPublish, transport: "http", ok: "200", run: (t) => http("PUT", `/timer/${stopId}/stop`, t) },
      {
        name: "game master TIMER_CREATE",
        having: { publish: ["timers"], subscribe: ["timers"] },
        lacking: { publish: ["chat", "relay", "timers:*"], subscribe: ["timers"] },
        transport: "in-band",
        ok: "ack",
        run: (t) =>
          onSocket(wsUrl(app, `/ws/gamemaster/${session}${t ? `?token=${t}` : ""}`), async (c) => {
            c.send({ type: "TIMER_CREATE", payload: { sessionId: session, maxTime: 60 }, ref: "m1" });
            return frameOutcome(await c.next((f) => f.ref === "m1"));
          }),
      },
      {
        name: "game master TIMER_PAUSE",
        having: { publish: ["tim*"], subscribe: ["timers"] },
        lacking: { publish: ["timer"], subscribe: ["*"] },
        transport: "in-band",
        ok: "ack",
        run: (t) =>
          onSocket(wsUrl(app, `/ws/gamemaster/${session}${t ? `?token=${t}` : ""}`), async (c) => {
            c.send({ type: "TIMER_PAUSE", payload: { id: timerId }, ref: "p1" });
            return frameOutcome(await c.next((f) => f.ref === "p1"));
          }),
      },
      {
        name: "/ws/manager (publish relay)",
        having: { publish: ["relay"] },
        lacking: { publish: ["chat", "timers", "relay:*", "relays"], subscribe: ["*"] },
        transport: "upgrade",
        ok: "ack",
        run: (t) =>
          onSocket(wsUrl(app, `/ws/manager${t ? `?token=${t}` : ""}`), async (c) => {
            c.send("hello from a manager");
            return frameOutcome(await c.next((f) => f.op !== undefined));
          }),
      },
      {
        name: "POST /messages",
        having: { publish: ["chat"] },
        lacking: { publish: ["relay", "timers", "chat:*"], subscribe: ["*"] },
        transport: "http",
        ok: "201",
        run: (t) => http("POST", "/messages", t, { content: "hi", user: "matrix" }),
      },
      {
        name: "POST /notify",
        having: { publish: ["c*"] },
        lacking: { publish: ["relay", "chats"], subscribe: ["chat"] },
        transport: "http",
        ok: "202",
        run: (t) => http("POST", "/notify", t, { id: `n-${Math.random()}`, content: "hi", timestamp: new Date().toISOString(), type: "message" }),
      },
      {
        name: "WS publish op on chat",
        having: { publish: ["chat"] },
        lacking: { publish: ["relay"], subscribe: ["*"] },
        transport: "in-band",
        ok: "ack",
        run: (t) =>
          onSocket(wsUrl(app, `/ws?topics=${t ? `&token=${t}` : ""}`), async (c) => {
            c.send({ op: "publish", topic: "chat", data: { content: "over ws" }, ref: 7 });
            return frameOutcome(await c.next((f) => f.ref === 7));
          }),
      },
      {
        name: "WS publish op on relay",
        having: { publish: ["relay"] },
        lacking: { publish: ["chat"], subscribe: ["relay"] },
        transport: "in-band",
        ok: "ack",
        run: (t) =>
          onSocket(wsUrl(app, `/ws?topics=${t ? `&token=${t}` : ""}`), async (c) => {
            c.send({ op: "publish", topic: "relay", data: "over ws", ref: 8 });
            return frameOutcome(await c.next((f) => f.ref === 8));
          }),
      },
      {
        name: "WS subscribe op",
        having: { subscribe: ["chat"] },
        lacking: { subscribe: ["cron", "chat:*", "chats"], publish: ["*"] },
        transport: "in-band",
        ok: "ack",
        run: (t) =>
          onSocket(wsUrl(app, `/ws?topics=${t ? `&token=${t}` : ""}`), async (c) => {
            c.send({ op: "subscribe", topic: "chat", ref: "s" });
            return frameOutcome(await c.next((f) => f.ref === "s"));
          }),
      },
      {
        name: "/ws?topics= at connect",
        having: { subscribe: ["cron"] },
        lacking: { subscribe: ["chat"], publish: ["*"] },
        transport: "in-band",
        ok: "ack",
        run: (t) =>
          onSocket(wsUrl(app, `/ws?topics=cron${t ? `&token=${t}` : ""}`), async (c) => {
            const f = await c.next((f) => f.topic === "cron" || f.op === "error");
            return f.op === "error" ? `error ${f.code}` : "ack";
          }),
      },
      {
        name: "/ws/customer/:sessionId",
        having: { subscribe: [`session:${session}`] },
        lacking: { subscribe: [`session:${other}`, "timers", `session:${session}x`], publish: ["*"] },
        transport: "upgrade",
        ok: "open",
        run: (t) =>
          onSocket(wsUrl(app, `/ws/customer/${session}${t ? `?token=${t}` : ""}`), async (c) => {
            c.send("anything"); // the customer socket only listens: it answers with an error frame
            const f = await c.next((f) => f.op === "error");
            return f.code === "read_only" ? "open" : `error ${f.code}`;
          }),
      },
      {
        name: "/ws/gamemaster/:sessionId",
        having: { subscribe: ["timers"] },
        lacking: { subscribe: [`session:${session}`, "timer:*"], publish: ["*"] },
        transport: "upgrade",
        ok: "open",
        run: (t) =>
          onSocket(wsUrl(app, `/ws/gamemaster/${session}${t ? `?token=${t}` : ""}`), async (c) => {
            c.send({ type: "NOT_A_COMMAND" });
            const f = await c.next((f) => f.op === "error");
            return f.code === "unknown_type" ? "open" : `error ${f.code}`;
          }),
      },
      {
        name: "/ws/broadcast (subscribe relay)",
        having: { subscribe: ["relay"] },
        lacking: { subscribe: ["chat", "relay:*"], publish: ["*"] },
        transport: "upgrade",
        ok: "open",
        run: (t) =>
          onSocket(wsUrl(app, `/ws/broadcast${t ? `?token=${t}` : ""}`), async (c) => {
            const text = `relay-${++relayCount}`;
            publisher.send({ op: "publish", topic: "relay", data: text });
            await c.next((f) => f === text);
            return "open";
          }),
      },
      {
        name: "GET /events?topics=chat (SSE)",
        having: { subscribe: ["chat"] },
        lacking: { subscribe: ["cron"], publish: ["*"] },
        transport: "http",
        ok: "200",
        run: (t) => http("GET", "/events?topics=chat", t, undefined, true),
      },
      {
        name: "GET /timers?sessionId= (subscribe session)",
        having: { subscribe: [`session:${session}`] },
        lacking: { subscribe: [`session:${other}`, "timer:*"], publish: ["*"] },
        transport: "http",
        ok: "200",
        run: (t) => http("GET", `/timers?sessionId=${session}`, t),
      },
      {
        name: "GET /timers (subscribe timers)",
        having: { subscribe: ["timers"] },
        lacking: { subscribe: ["session:*"], publish: ["*"] },
        transport: "http",
        ok: "200",
        run: (t) => http("GET", "/timers", t),
      },
      {
        name: "GET /timer/:id (subscribe on the timer, its session or timers)",
        having: { subscribe: [`timer:${"*"}`] },
        lacking: { subscribe: [`session:${other}`, "timer"], publish: ["*"] },
        transport: "http",
        ok: "200",
        // Permission before existence: a timer the token may not see is answered like a missing one.
        lackingOutcome: "404 not_found",
        run: (t) => http("GET", `/timer/${timerId}`, t),
      },
      {
        name: "GET /messages",
        having: { subscribe: ["chat"] },
        lacking: { subscribe: ["relay"], publish: ["*"] },
        transport: "http",
        ok: "200",
        run: (t) => http("GET", "/messages", t),
      },
    ];

    for (const action of actions) {
      describe(action.name, () => {
        for (const kind of KINDS) {
          it(`${kind} → ${expected(kind, action)}`, async () => {
            expect(await action.run(await tokenOf(kind, action))).toBe(expected(kind, action));
          });
        }
      });
    }

    describe("a customer token for one session", () => {
      it("is refused other sessions and every other topic, on every transport", async () => {
        const customer = await mintToken(SECRET, { sub: "customer", subscribe: [`session:${session}`] });
        expect(await onSocket(wsUrl(app, `/ws/customer/${other}?token=${customer}`), answersAnything)).toBe("4403");
        expect(await onSocket(wsUrl(app, `/ws/gamemaster/${session}?token=${customer}`), answersAnything)).toBe("4403");
        expect(await onSocket(wsUrl(app, `/ws/manager?token=${customer}`), answersAnything)).toBe("4403");
        for (const topic of [`session:${other}`, "timers", `timer:${timerId}`, "chat", "cron", "relay", `session:${session}-x`]) {
          expect(await http("GET", `/events?topics=${topic}`, customer)).toBe("403 forbidden");
          const outcome = await onSocket(wsUrl(app, `/ws?topics=&token=${customer}`), async (c) => {
            c.send({ op: "subscribe", topic, ref: 1 });
            return frameOutcome(await c.next((f) => f.ref === 1));
          });
          expect(outcome, topic).toBe("error forbidden");
        }
        // The seed cron client's default topic is not the customer's either.
        const plain = wsClient(wsUrl(app, `/ws?token=${customer}`));
        expect((await plain.next((f) => f.op === "error")).code).toBe("forbidden");
        plain.close();
        expect(await http("POST", "/timer", customer, { sessionId: session, maxTime: 5 })).toBe("403 forbidden");
        // Timer reads: its own session's only.
        expect(await http("GET", `/timers?sessionId=${session}`, customer)).toBe("200");
        expect(await http("GET", `/timer/${timerId}`, customer)).toBe("200");
        expect(await http("GET", `/timers?sessionId=${other}`, customer)).toBe("403 forbidden");
        expect(await http("GET", "/timers", customer)).toBe("403 forbidden");
        const theirs = await createTimer(other);
        // Answered like a missing timer, so ids cannot be enumerated.
        expect(await http("GET", `/timer/${theirs}`, customer)).toBe("404 not_found");
      });

      it("receives its own session's frames and never another session's", async () => {
        const customer = await mintToken(SECRET, { sub: "customer", subscribe: [`session:${session}`] });
        const socket = wsClient(wsUrl(app, `/ws/customer/${session}?token=${customer}`));
        const unified = wsClient(wsUrl(app, `/ws?topics=session:${session}&token=${customer}`));
        const sse = await sseClient(`${app.url}/events?topics=session:${session}&token=${customer}`);
        await Promise.all([socket.opened, unified.opened]);
        // Give the sockets a round trip so their subscriptions are in place (no sleeping).
        unified.send({ op: "ping", ref: "ready" });
        await unified.next((f) => f.ref === "ready");
        // Events of the other session first, then ours: when ours has arrived, theirs would have.
        const theirs = await createTimer(other);
        for (const verb of ["pause", "resume"]) {
          const res = await fetch(`${app.url}/timer/${theirs}/${verb}`, { method: "PUT", headers: { Authorization: `Bearer ${admin}` } });
          expect(res.status).toBe(200);
        }
        const ours = await createTimer(session);
        const isOurs = (f: any) => f.type === "TIMER_CREATE" && f.payload?.id === ours;
        await socket.next(isOurs);
        await unified.next(isOurs);
        await sse.next((e) => isOurs(e.json));
        // And a few ticks of updates on both sessions' running timers.
        await socket.collect(3, (f) => f.type === "TIMER_UPDATE" && f.payload?.id === ours);
        await unified.collect(3, (f) => f.type === "TIMER_UPDATE" && f.payload?.id === ours);
        const payloads = [...socket.frames, ...unified.frames, ...sse.events.map((e) => e.json)].filter((f: any) => f?.payload);
        expect(payloads.length).toBeGreaterThan(6);
        for (const f of payloads as any[]) expect(f.payload.sessionId).toBe(session);
        socket.close();
        unified.close();
        sse.close();
        for (const id of [theirs, ours]) await fetch(`${app.url}/timer/${id}/stop`, { method: "PUT", headers: { Authorization: `Bearer ${admin}` } });
      });
    });
  });
}

describe("auth configuration", () => {
  it("without JWT_SECRET: open, with a warning at start", async () => {
    const child = await spawnServer({ JWT_SECRET: "" });
    try {
      expect(child.lines.some((l) => l.includes('"level":"warn"') && l.includes("JWT_SECRET is unset"))).toBe(true);
      const res = await fetch(`${child.url}/messages`, {
        method: "POST",
        body: JSON.stringify({ content: "open" }),
        headers: { "Content-Type": "application/json" },
      });
      expect(res.status).toBe(201);
    } finally {
      child.proc.kill();
      await child.exited;
    }
  });

  it("APP_ENV=prod without JWT_SECRET exits 2 before listening, naming the variable", async () => {
    const proc = Bun.spawn([process.execPath, "src/main.ts"], {
      cwd: ROOT,
      env: { ...process.env, APP_ENV: "prod", JWT_SECRET: "", PORT: "0", DATABASE_URL: "sqlite::memory:" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(2);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("JWT_SECRET");
    expect(await new Response(proc.stdout).text()).not.toContain("tickwire listening");
  });

  it("`bun run token` mints a token the server accepts with exactly the given permissions", async () => {
    const run = Bun.spawn([process.execPath, "run", "token", "--", "--sub", "gm1", "--publish", "timers", "--subscribe", "*"], {
      cwd: ROOT,
      env: { ...process.env, JWT_SECRET: SECRET },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await run.exited).toBe(0);
    const token = (await new Response(run.stdout).text()).trim();
    expect(token.split(".")).toHaveLength(3);
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET));
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload).toMatchObject({ sub: "gm1", publish: ["timers"], subscribe: ["*"] });
    expect(payload.exp! - payload.iat!).toBe(24 * 3600);

    const app = await startServer({ JWT_SECRET: SECRET });
    try {
      const created = await fetch(`${app.url}/timer`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ sessionId: "minted", maxTime: 10 }),
      });
      expect(created.status).toBe(201);
      const chat = await fetch(`${app.url}/messages`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: '{"content":"x"}',
      });
      expect(chat.status).toBe(403);
    } finally {
      await app.stop();
    }
  });

  it("`bun run token` without a secret or --sub prints usage and exits 2", async () => {
    const run = Bun.spawn([process.execPath, "run", "token", "--", "--sub", "x"], {
      cwd: ROOT,
      env: { ...process.env, JWT_SECRET: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await run.exited).toBe(2);
    expect(await new Response(run.stderr).text()).toContain("usage:");
  });
});
