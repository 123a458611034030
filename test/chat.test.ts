/**
 * The SSE chat seed's contract, in both storage modes: `POST /messages`, `GET /messages`,
 * `POST /notify`, chat frames on `GET /events` (the shape `EventSource.onmessage` sees) and on
 * `/ws`, the WS `publish` op, and auth on publishing.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SignJWT } from "jose";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { wsClient } from "./support/ws-client.ts";

// Response bodies are checked by the assertions; typed loosely on purpose.
const anyJson = (v: unknown): any => v;

const post = (app: Tickwire, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(app.url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe.each(MODES)("chat ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer(mode.env(uniquePrefix("chat")));
  });
  afterAll(() => app.stop());

  it("answers POST /messages with the seed's fields and delivers it to EventSource.onmessage", async () => {
    const sse = await sseClient(`${app.url}/events?client_id=c1`);
    expect(sse.response.headers.get("content-type")).toStartWith("text/event-stream");
    const res = await post(app, "/messages", { content: "Hello, world!", user: "John Doe" });
    expect(res.status).toBe(201);
    const sent = await res.json().then(anyJson);
    expect(sent).toEqual({
      id: expect.any(String),
      content: "Hello, world!",
      user: "John Doe",
      timestamp: expect.any(String),
      status: "sent",
      seq: expect.any(String),
    });
    expect(new Date(sent.timestamp).toISOString()).toBe(sent.timestamp);
    expect(sent.id).toMatch(/^\d{14}\.\d{6}/);

    const event = await sse.next((e) => e.json?.id === sent.id);
    // The default event type (no `event:` line) is what EventSource.onmessage receives.
    expect(event.event).toBeUndefined();
    expect(event.id).toBe(sent.seq);
    expect(event.json).toEqual({
      // The history this seq belongs to (issue #16): resuming from another epoch is not recovered.
      epoch: expect.stringMatching(EPOCH),
      topic: "chat",
      seq: sent.seq,
      ts: expect.any(Number),
      type: "message",
      id: sent.id,
      content: "Hello, world!",
      user: "John Doe",
      timestamp: sent.timestamp,
    });
    sse.close();
  });

  it("defaults user to anonymous and gives every message a unique id", async () => {
    const answers = await Promise.all([1, 2, 3].map((n) => post(app, "/messages", { content: `m${n}` }).then((r) => r.json().then(anyJson))));
    expect(answers.map((a) => a.user)).toEqual(["anonymous", "anonymous", "anonymous"]);
    expect(new Set(answers.map((a) => a.id)).size).toBe(3);
  });

  it("rejects bad messages with 400 naming the field, and bodies over 64 KiB with 413", async () => {
    const cases: [unknown, string][] = [
      [{}, "content"],
      [{ content: "" }, "content"],
      [{ content: "x".repeat(4097) }, "content"],
      [{ content: 5 }, "content"],
      [{ content: "ok", user: "u".repeat(65) }, "user"],
      ["not json", "body"],
    ];
    for (const [body, field] of cases) {
      const res = await post(app, "/messages", body);
      expect(res.status).toBe(400);
      expect((await res.json().then(anyJson)).error).toMatchObject({ code: "bad_request", field });
    }
    expect((await post(app, "/messages", { content: "x".repeat(70_000) })).status).toBe(413);
  });

  it("lists retained history with GET /messages, after since and up to limit", async () => {
    const seqs: string[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await (await post(app, "/messages", { content: `h${i}` })).json().then(anyJson)).seq);
    const all = await (await fetch(`${app.url}/messages?limit=5`)).json().then(anyJson);
    expect(all.recovered).toBe(true);
    expect(all.messages.map((m: any) => m.seq)).toEqual(seqs);
    expect(all.messages[0]).toMatchObject({ topic: "chat", type: "message", content: "h0", user: "anonymous" });
    const page = await (await fetch(`${app.url}/messages?since=${seqs[1]}&limit=2`)).json().then(anyJson);
    expect(page.messages.map((m: any) => m.content)).toEqual(["h2", "h3"]);
    for (const [query, field] of [
      ["since=yesterday", "since"],
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["limit=100000", "limit"],
    ]) {
      const res = await fetch(`${app.url}/messages?${query}`);
      expect(res.status).toBe(400);
      expect((await res.json().then(anyJson)).error.field).toBe(field);
    }
  });

  it("broadcasts POST /notify in the seed's internal shape with 202", async () => {
    const sse = await sseClient(`${app.url}/events`);
    const body = { id: "20240101120000.123456", content: "from the message service", user: "John Doe", timestamp: "2024-01-01T12:00:00Z", type: "message" };
    const res = await post(app, "/notify", body);
    expect(res.status).toBe(202);
    const { seq } = await res.json().then(anyJson);
    const event = await sse.next((e) => e.json?.id === body.id);
    expect(event.json).toEqual({ topic: "chat", seq, ts: expect.any(Number), epoch: expect.stringMatching(EPOCH), ...body });
    const bad = await post(app, "/notify", { ...body, timestamp: undefined });
    expect(bad.status).toBe(400);
    expect((await bad.json().then(anyJson)).error.field).toBe("timestamp");
    sse.close();
  });

  it("delivers chat on WS topic chat and accepts the publish op", async () => {
    const a = wsClient(wsUrl(app, "/ws?topics=chat"));
    const b = wsClient(wsUrl(app, "/ws?topics=chat"));
    await Promise.all([a.opened, b.opened]);
    a.send({ op: "publish", topic: "chat", data: { content: "over ws", user: "ws-user" }, ref: 7 });
    const ack = await a.next((f) => f.op === "ack");
    expect(ack).toEqual({ op: "ack", ref: 7, topic: "chat", seq: expect.any(String) });
    for (const client of [a, b]) {
      // On the publisher the frame may arrive before or after its ack.
      const [frame] = await client.collect(1, (f) => f.topic === "chat");
      expect(frame).toMatchObject({ topic: "chat", seq: ack.seq, type: "message", content: "over ws", user: "ws-user" });
    }
    a.send({ op: "publish", topic: "chat", data: { user: "no content" }, ref: 8 });
    expect(await a.next((f) => f.op === "error")).toMatchObject({ op: "error", ref: 8, code: "bad_request", message: expect.stringContaining("content") });
    a.close();
    b.close();
  });
});

const EPOCH = /^[0-9a-f]{8}$/;

describe("chat with auth on", () => {
  const secret = "chat-test-secret-0123456789";
  let app: Tickwire;
  const token = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("tester").setExpirationTime("5m").sign(new TextEncoder().encode(secret));
  beforeAll(async () => {
    app = await startServer({ JWT_SECRET: secret });
  });
  afterAll(() => app.stop());

  it("needs publish on chat for POST /messages and POST /notify", async () => {
    const notify = { id: "n1", content: "x", user: "u", timestamp: "2024-01-01T12:00:00Z", type: "message" };
    expect((await post(app, "/messages", { content: "x" })).status).toBe(401);
    expect((await post(app, "/notify", notify)).status).toBe(401);
    const reader = `Bearer ${await token({ subscribe: ["*"], publish: ["relay"] })}`;
    expect((await post(app, "/messages", { content: "x" }, { Authorization: reader })).status).toBe(403);
    expect((await post(app, "/notify", notify, { Authorization: reader })).status).toBe(403);
    const writer = `Bearer ${await token({ subscribe: ["chat"], publish: ["chat"] })}`;
    expect((await post(app, "/messages", { content: "x" }, { Authorization: writer })).status).toBe(201);
    expect((await post(app, "/notify", notify, { Authorization: writer })).status).toBe(202);
  });
});
