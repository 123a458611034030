/**
 * Chat input limits, in both storage modes: `content` (1..4096) and `user` (≤ 64) count
 * characters, as the SPEC's "string 1..4096" and the OpenAPI `maxLength` say, not UTF-16 units
 * (found by review: 2049 emoji were refused as over 4096).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix } from "./support/server.ts";

const anyJson = (v: unknown): any => v;
const post = (app: Tickwire, path: string, body: unknown) =>
  fetch(app.url + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
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
});
