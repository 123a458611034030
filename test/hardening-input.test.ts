/**
 * Input hardening (issue #17), in both storage modes with auth on: one rule for session ids
 * wherever one enters (so every accepted session can be watched on every transport), ISO-8601
 * `timestamp` and `type: "message"` on `POST /notify`, and chat `content` that is not only white
 * space on all three chat entry points. Every refusal is a 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mintToken } from "../src/auth/tokens.ts";
import { isTopic } from "../src/core/topic.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { wsClient } from "./support/ws-client.ts";

const SECRET = "hardening-input-secret-0123456789";

/** Ids the old rule (any 1..128 characters) let in, although `session:<id>` is no topic, or that read as two topic segments. */
const BAD_SESSION_IDS = ["a b", "a.b", "a:b", "x".repeat(121), "sessión", "a%b", "a/b"];

describe.each(MODES)("input hardening ($name)", (mode) => {
  const prefix = uniquePrefix("hin");
  let app: Tickwire;
  let admin: string;
  const created: number[] = [];

  const call = async (method: string, path: string, body?: unknown, token: string | undefined = admin) => {
    const res = await fetch(app.url + path, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const createTimer = async (sessionId: string) => {
    const res = await call("POST", "/timer", { sessionId, maxTime: 3600 });
    if (res.status === 201) created.push(res.body.id);
    return res;
  };

  beforeAll(async () => {
    app = await startServer({ ...mode.env(prefix), JWT_SECRET: SECRET, TICK_MS: "100" });
    admin = await mintToken(SECRET, { sub: "admin", publish: ["*"], subscribe: ["*"] });
  });
  afterAll(async () => {
    // Leave no timers behind in the shared MySQL database.
    for (const id of created) await call("PUT", `/timer/${id}/stop`);
    await app?.stop();
  });

  describe("session ids", () => {
    it("refuses an id whose session topic could not be watched, with 400 sessionId, wherever it enters", async () => {
      for (const sessionId of ["", ...BAD_SESSION_IDS]) {
        const create = await createTimer(sessionId);
        expect({ sessionId, status: create.status, error: create.body.error }).toMatchObject({
          sessionId,
          status: 400,
          error: { code: "bad_request", field: "sessionId" },
        });
        const list = await call("GET", `/timers?sessionId=${encodeURIComponent(sessionId)}`);
        expect({ sessionId, status: list.status, field: list.body.error?.field }).toEqual({ sessionId, status: 400, field: "sessionId" });
      }
      // In a path: every id that reaches the route as one segment (an empty or "/" one is another route).
      for (const sessionId of BAD_SESSION_IDS.filter((id) => !id.includes("/"))) {
        for (const socket of ["customer", "gamemaster"]) {
          const res = await call("GET", `/ws/${socket}/${encodeURIComponent(sessionId)}`);
          expect({ sessionId, socket, status: res.status, error: res.body.error }).toMatchObject({
            sessionId,
            socket,
            status: 400,
            error: { code: "bad_request", field: "sessionId", message: expect.stringContaining("sessionId") },
          });
        }
      }
    });

    it("refuses a TIMER_CREATE with such an id with an error frame naming sessionId", async () => {
      const gm = wsClient(wsUrl(app, `/ws/gamemaster/${prefix}?token=${admin}`));
      await gm.opened;
      // Fewer than 10 malformed frames a second, the rate at which a socket is closed.
      for (const [i, sessionId] of ["", "a b", "a:b", "x".repeat(121)].entries()) {
        gm.send({ type: "TIMER_CREATE", payload: { sessionId, maxTime: 60 }, ref: `bad-${i}` });
        const reply = await gm.next((f) => f.ref === `bad-${i}`);
        expect(reply).toMatchObject({ op: "error", code: "bad_frame", message: expect.stringContaining("payload.sessionId") });
      }
      gm.close();
    });

    it("accepts the seeds' ids and the longest allowed one, on every entry point", async () => {
      const longest = prefix.padEnd(120, "x");
      expect(isTopic(`session:${longest}`)).toBe(true);
      const ids = ["session-123", "abc", crypto.randomUUID(), "Table_1", longest];
      const gm = wsClient(wsUrl(app, `/ws/gamemaster/session-123?token=${admin}`));
      await gm.opened;
      for (const sessionId of ids) {
        const res = await createTimer(sessionId);
        expect({ sessionId, status: res.status }).toEqual({ sessionId, status: 201 });
        expect(res.body.sessionId).toBe(sessionId);
        const list = await call("GET", `/timers?sessionId=${sessionId}`);
        expect(list.status).toBe(200);
        expect(list.body.map((t: any) => t.id)).toContain(res.body.id);
        gm.send({ type: "TIMER_CREATE", payload: { sessionId, maxTime: 60 }, ref: sessionId });
        const ack = await gm.next((f) => f.ref === sessionId);
        expect(ack).toMatchObject({ op: "ack", timer: { sessionId } });
        created.push(ack.timer.id);
      }
      gm.close();
      const gmLongest = wsClient(wsUrl(app, `/ws/gamemaster/${longest}?token=${admin}`));
      await gmLongest.opened;
      gmLongest.close();
    });

    it("lets a timer of the longest id be watched on /events and /ws/customer", async () => {
      const sessionId = `${prefix}-w`.padEnd(120, "w");
      const customer = await mintToken(SECRET, { sub: "customer", subscribe: [`session:${sessionId}`] });
      const timer = await createTimer(sessionId);
      expect(timer.status).toBe(201);
      const sse = await sseClient(`${app.url}/events?topics=session:${sessionId}&token=${customer}`);
      expect(sse.response.status).toBe(200);
      const socket = wsClient(wsUrl(app, `/ws/customer/${sessionId}?token=${customer}`));
      await socket.opened;
      // On connect a customer socket first gets the current state of its session's timers.
      await socket.next((f) => f.type === "TIMER_UPDATE" && f.payload?.id === timer.body.id);
      expect((await call("PUT", `/timer/${timer.body.id}/pause`)).status).toBe(200);
      const paused = (f: any) => f?.type === "TIMER_PAUSE" && f.payload?.id === timer.body.id && f.payload.sessionId === sessionId;
      expect(await socket.next(paused)).toMatchObject({ topic: `session:${sessionId}` });
      expect((await sse.next((e) => paused(e.json))).json).toMatchObject({ topic: `session:${sessionId}` });
      socket.close();
      sse.close();
    });
  });

  describe("POST /notify", () => {
    const notify = (over: Record<string, unknown>) =>
      call("POST", "/notify", {
        id: `${prefix}-${Math.random()}`,
        content: "hi",
        user: "John Doe",
        timestamp: "2024-01-01T12:00:00Z",
        type: "message",
        ...over,
      });

    it("takes the chat seed's example unchanged, and ISO-8601 instants with a fraction or an offset", async () => {
      const seed = await call("POST", "/notify", {
        id: "20240101120000.123456",
        content: "Hello, world!",
        user: "John Doe",
        timestamp: "2024-01-01T12:00:00Z",
        type: "message",
      });
      expect(seed.status).toBe(202);
      for (const timestamp of ["2024-01-01T12:00:00.123Z", "2024-01-01T12:00:00.123456789+02:00", "2024-02-29T23:59:59-05:30", "0000-02-29T00:00:00Z"]) {
        expect({ timestamp, status: (await notify({ timestamp })).status }).toEqual({ timestamp, status: 202 });
      }
      // `type` stays optional (the seed always sends it, other callers need not).
      expect((await notify({ type: undefined })).status).toBe(202);
    });

    it("refuses a timestamp that is not an ISO-8601 instant, and a type other than message, naming the field", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ timestamp: "not a date" }, "timestamp"],
        [{ timestamp: "" }, "timestamp"],
        [{ timestamp: 1704110400000 }, "timestamp"],
        [{ timestamp: "2024-01-01" }, "timestamp"],
        [{ timestamp: "2024-01-01T12:00:00" }, "timestamp"], // no zone: another instant for every reader
        [{ timestamp: "2024-01-01 12:00:00Z" }, "timestamp"],
        [{ timestamp: "2024-13-01T12:00:00Z" }, "timestamp"],
        [{ timestamp: "2024-04-31T12:00:00Z" }, "timestamp"],
        [{ timestamp: "2023-02-29T12:00:00Z" }, "timestamp"],
        [{ timestamp: "2024-01-01T24:00:00Z" }, "timestamp"],
        [{ timestamp: "2024-01-01T12:00:00Z trailing" }, "timestamp"],
        [{ timestamp: undefined }, "timestamp"],
        [{ type: "notice" }, "type"],
        [{ type: "Message" }, "type"],
        [{ type: "" }, "type"],
        [{ type: 1 }, "type"],
      ];
      for (const [over, field] of cases) {
        const res = await notify(over);
        expect({ over, status: res.status, error: res.body.error }).toMatchObject({ over, status: 400, error: { code: "bad_request", field } });
        expect(res.body.error.message).toStartWith(`${field}:`);
      }
    });
  });

  describe("chat content", () => {
    const BLANK = [" ", "   ", "\n\t", "\u00a0\u3000\u2028"];

    it("refuses white-space-only content on POST /messages and POST /notify with 400 content", async () => {
      for (const content of BLANK) {
        for (const [path, body] of [
          ["/messages", { content }],
          ["/notify", { id: `${prefix}-blank`, content, timestamp: "2024-01-01T12:00:00Z", type: "message" }],
        ] as const) {
          const res = await call("POST", path, body);
          expect({ path, content, status: res.status, error: res.body.error }).toMatchObject({
            path,
            content,
            status: 400,
            error: { code: "bad_request", field: "content" },
          });
        }
      }
      const padded = await call("POST", "/messages", { content: "  hi  " });
      expect(padded.status).toBe(201);
      expect(padded.body.content).toBe("  hi  ");
    });

    it("refuses white-space-only content in the WS publish op with an error frame bad_request", async () => {
      const ws = wsClient(wsUrl(app, `/ws?topics=&token=${admin}`));
      await ws.opened;
      for (const [i, content] of BLANK.entries()) {
        ws.send({ op: "publish", topic: "chat", data: { content }, ref: i });
        expect(await ws.next((f) => f.ref === i)).toMatchObject({ op: "error", code: "bad_request", message: expect.stringContaining("content") });
      }
      ws.send({ op: "publish", topic: "chat", data: { content: " ok " }, ref: "ok" });
      expect(await ws.next((f) => f.ref === "ok")).toMatchObject({ op: "ack", topic: "chat" });
      ws.close();
    });
  });
});
