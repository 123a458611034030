/**
 * Access hardening (issue #17), in both storage modes with auth on: the chat author comes from
 * the token (its `name` claim, else `sub`) on all three chat entry points, never from a forged
 * `user`; and permission is checked before existence on the timer API, so a caller that may not
 * see a timer gets exactly the answer a missing one gets and cannot enumerate ids.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SignJWT } from "jose";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { wsClient } from "./support/ws-client.ts";

const SECRET = "hardening-access-secret-0123456789";
/** An id no test database reaches. */
const MISSING = 2_147_483_000;

/** A token with a `name` claim (mintToken has no option for it). */
const namedToken = (sub: string, name: string, claims: Record<string, unknown>) =>
  new SignJWT({ name, ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET));

describe.each(MODES)("access hardening ($name)", (mode) => {
  const prefix = uniquePrefix("hac");
  let app: Tickwire;
  let admin: string;
  const created: number[] = [];

  const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const res = await fetch(app.url + path, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    app = await startServer({ ...mode.env(prefix), JWT_SECRET: SECRET, TICK_MS: "100" });
    admin = await mintToken(SECRET, { sub: "admin", publish: ["*"], subscribe: ["*"] });
  });
  afterAll(async () => {
    for (const id of created) await call("PUT", `/timer/${id}/stop`, admin);
    await app?.stop();
  });

  describe("chat author", () => {
    const grants = { publish: ["chat"], subscribe: ["chat"] };
    const notifyBody = (user: string) => ({
      id: `${prefix}-${Math.random()}`,
      content: "via notify",
      user,
      timestamp: "2024-01-01T12:00:00Z",
      type: "message",
    });

    /** Posts on all three entry points with `token` and a forged `user`; the users the frames carry. */
    async function authorsOf(token: string): Promise<{ messages: string; messagesAnswer: string; notify: string; ws: string }> {
      const sse = await sseClient(`${app.url}/events?topics=chat&token=${token}`);
      const ws = wsClient(wsUrl(app, `/ws?topics=&token=${token}`));
      await ws.opened;
      const posted = await call("POST", "/messages", token, { content: "via messages", user: "mallory" });
      expect(posted.status).toBe(201);
      const notified = await call("POST", "/notify", token, notifyBody("mallory"));
      expect(notified.status).toBe(202);
      ws.send({ op: "publish", topic: "chat", data: { content: "via ws", user: "mallory" }, ref: "p" });
      const ack = await ws.next((f) => f.ref === "p");
      expect(ack).toMatchObject({ op: "ack" });
      const frameAt = async (seq: string) => (await sse.next((e) => e.json?.seq === seq)).json.user;
      const authors = {
        messages: await frameAt(posted.body.seq),
        messagesAnswer: posted.body.user,
        notify: await frameAt(notified.body.seq),
        ws: await frameAt(ack.seq),
      };
      sse.close();
      ws.close();
      return authors;
    }

    it("is the token's sub, whatever user the client sends, on POST /messages, POST /notify and the WS publish op", async () => {
      const token = await mintToken(SECRET, { sub: "alice", ...grants });
      expect(await authorsOf(token)).toEqual({ messages: "alice", messagesAnswer: "alice", notify: "alice", ws: "alice" });
    });

    it("is the token's name claim when it has one", async () => {
      const token = await namedToken("user-7f3a", "Alice Liddell", grants);
      expect(await authorsOf(token)).toEqual({ messages: "Alice Liddell", messagesAnswer: "Alice Liddell", notify: "Alice Liddell", ws: "Alice Liddell" });
    });
  });

  describe("timer ids cannot be enumerated", () => {
    let session: string;
    let ours: number;
    let theirs: number;
    let gone: number;
    let customer: string;

    const createTimer = async (sessionId: string) => {
      const res = await call("POST", "/timer", admin, { sessionId, maxTime: 3600 });
      expect(res.status).toBe(201);
      created.push(res.body.id);
      return res.body.id as number;
    };

    beforeAll(async () => {
      session = `${prefix}-s`;
      customer = await mintToken(SECRET, { sub: "customer", subscribe: [`session:${session}`] });
      ours = await createTimer(session);
      theirs = await createTimer(`${prefix}-other`);
      gone = await createTimer(`${prefix}-other`);
      expect((await call("PUT", `/timer/${gone}/stop`, admin)).status).toBe(200);
    });

    const answer = (id: number, token: string) => call("GET", `/timer/${id}`, token);
    /** What a missing timer is answered; only the id in the message differs from one id to another. */
    const hidden = (id: number) => ({ status: 404, body: { error: { code: "not_found", message: `timer ${id} not found` } } });

    it("answers GET /timer/:id for another session's timer exactly as for a missing or deleted one", async () => {
      expect((await answer(ours, customer)).status).toBe(200);
      expect(await answer(theirs, customer)).toEqual(hidden(theirs));
      expect(await answer(MISSING, customer)).toEqual(hidden(MISSING));
      expect(await answer(gone, customer)).toEqual(hidden(gone));
      // A token with no subscribe permission at all: the same.
      const writer = await mintToken(SECRET, { sub: "writer", publish: ["chat"] });
      for (const id of [ours, theirs, MISSING]) expect(await answer(id, writer)).toEqual(hidden(id));
    });

    it("still gives a principal allowed on timers, or on that timer, the real answer", async () => {
      const watcher = await mintToken(SECRET, { sub: "watcher", subscribe: ["timers"] });
      expect(await answer(theirs, watcher)).toMatchObject({ status: 200, body: { id: theirs, sessionId: `${prefix}-other` } });
      expect(await answer(MISSING, watcher)).toEqual(hidden(MISSING));
      const one = await mintToken(SECRET, { sub: "one", subscribe: [`timer:${theirs}`] });
      expect((await answer(theirs, one)).status).toBe(200);
      expect(await answer(ours, one)).toEqual(hidden(ours));
    });

    it("refuses changes without publish on timers before looking the timer up", async () => {
      for (const verb of ["pause", "resume", "stop"]) {
        const answers = await Promise.all([ours, theirs, MISSING].map(async (id) => call("PUT", `/timer/${id}/${verb}`, customer)));
        for (const res of answers) expect(res).toEqual({ status: 403, body: { error: { code: "forbidden", message: expect.any(String), field: "token" } } });
        expect(new Set(answers.map((a) => a.body.error.message)).size).toBe(1);
      }
      const modify = await Promise.all([theirs, MISSING].map((id) => call("PUT", `/timer/${id}/modify`, customer, { maxTime: 10 })));
      expect(modify[0]).toEqual(modify[1]!);
      expect(modify[0]!.status).toBe(403);
    });

    it("refuses GET /timers?sessionId= of another session the same whether it has timers or not", async () => {
      const withTimers = await call("GET", `/timers?sessionId=${prefix}-other`, customer);
      const without = await call("GET", `/timers?sessionId=${prefix}-nobody`, customer);
      expect(withTimers.status).toBe(403);
      expect(JSON.stringify(without.body).replaceAll("nobody", "other")).toBe(JSON.stringify(withTimers.body));
    });

    it("answers a game master command without publish on timers the same for an existing and a missing timer", async () => {
      const watcher = await mintToken(SECRET, { sub: "watcher", subscribe: ["timers"] });
      const gm = wsClient(wsUrl(app, `/ws/gamemaster/${session}?token=${watcher}`));
      await gm.opened;
      gm.send({ type: "TIMER_PAUSE", payload: { id: theirs }, ref: "a" });
      gm.send({ type: "TIMER_PAUSE", payload: { id: MISSING }, ref: "b" });
      const [a, b] = [await gm.next((f) => f.ref === "a"), await gm.next((f) => f.ref === "b")];
      expect(a).toMatchObject({ op: "error", code: "forbidden" });
      expect({ ...b, ref: "a" }).toEqual(a);
      gm.close();
    });
  });
});
