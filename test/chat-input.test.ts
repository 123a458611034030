/**
 * Chat input limits, in both storage modes: `content` (1..4096) and `user` (≤ 64) count
 * characters, as the SPEC's "string 1..4096" and the OpenAPI `maxLength` say, not UTF-16 units
 * (found by review: 2049 emoji were refused as over 4096); an empty or blank `user` is
 * `"anonymous"`, as in the seed, which could not tell `""` from a missing `user`, while with auth
 * on the token names the sender whatever `user` says.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { wsClient } from "./support/ws-client.ts";

const anyJson = (v: unknown): any => v;
const post = (app: Tickwire, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(app.url + path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
const EMOJI = "😀"; // one character, two UTF-16 units, four UTF-8 bytes

describe.each(MODES)("chat input ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer(mode.env(uniquePrefix("chat-input")));
  });
  afterAll(() => app.stop());

  it("takes 4096 characters of content and 64 of user however they encode, and no more", async () => {
    const content = EMOJI.repeat(4096);
    const res = await post(app, "/messages", { content, user: EMOJI.repeat(64) });
    expect(res.status).toBe(201);
    const sent = anyJson(await res.json());
    expect(sent.content).toBe(content);
    const history = anyJson(await (await fetch(`${app.url}/messages?limit=1`)).json());
    expect(history.messages[0]).toMatchObject({ seq: sent.seq, content, user: EMOJI.repeat(64) });
    const notify = { id: "20240101120000.000001", content, user: EMOJI.repeat(64), timestamp: "2024-01-01T12:00:00Z" };
    expect((await post(app, "/notify", notify)).status).toBe(202);

    for (const [path, body, field, max] of [
      ["/messages", { content: `${content}x` }, "content", 4096],
      ["/messages", { content: "ok", user: EMOJI.repeat(65) }, "user", 64],
      ["/notify", { ...notify, content: EMOJI.repeat(4097) }, "content", 4096],
      ["/notify", { ...notify, user: `${EMOJI.repeat(64)}x` }, "user", 64],
    ] as const) {
      const refused = await post(app, path, body);
      expect(refused.status).toBe(400);
      expect(anyJson(await refused.json()).error).toEqual({ code: "bad_request", field, message: `${field}: expected at most ${max} characters` });
    }
  });

  it("stores an empty or blank user as anonymous, on POST /messages, POST /notify and the WS publish op", async () => {
    for (const user of ["", "   ", "\t\n"]) {
      const res = await post(app, "/messages", { content: "hi", user });
      expect(res.status).toBe(201);
      expect(anyJson(await res.json()).user).toBe("anonymous");
    }
    const notified = await post(app, "/notify", { id: "20240101120000.000002", content: "hi", user: "", timestamp: "2024-01-01T12:00:00Z" });
    expect(notified.status).toBe(202);
    const history = anyJson(await (await fetch(`${app.url}/messages?limit=1`)).json());
    expect(history.messages[0]).toMatchObject({ id: "20240101120000.000002", user: "anonymous" });
    const ws = wsClient(wsUrl(app, "/ws?topics="));
    await ws.opened;
    ws.send({ op: "publish", topic: "chat", data: { content: "over ws", user: " " }, ref: 1 });
    const ack = await ws.next((f) => f.op === "ack" && f.ref === 1);
    ws.close();
    const published = anyJson(await (await fetch(`${app.url}/messages?limit=1`)).json()).messages[0];
    expect(published).toMatchObject({ seq: ack.seq, content: "over ws", user: "anonymous" });
    const kept = await post(app, "/messages", { content: "hi", user: " bob " });
    expect(anyJson(await kept.json()).user).toBe(" bob ");
  });
});

describe("chat input with auth on", () => {
  const secret = "chat-input-secret-0123456789";
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({ JWT_SECRET: secret });
  });
  afterAll(() => app.stop());

  it("names the token's sub as the sender, whatever user says, empty included", async () => {
    const auth = { Authorization: `Bearer ${await mintToken(secret, { sub: "carol", publish: ["chat"], subscribe: ["chat"] })}` };
    for (const user of ["", "mallory", undefined]) {
      const res = await post(app, "/messages", { content: "hi", user }, auth);
      expect(res.status).toBe(201);
      expect(anyJson(await res.json()).user).toBe("carol");
    }
  });
});
