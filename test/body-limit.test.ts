/**
 * Issue #17: every body over 64 KiB, whatever its size (2 MiB, 5 MiB, 50 MiB) and framing
 * (`Content-Length` or `Transfer-Encoding: chunked`), gets the one JSON 413 on every route that
 * reads a body, and both Bun's fetch and Node's (undici, in a child `node` process) read it
 * without a network error. The connection stays usable, bodies up to the limit still work, and
 * the server's memory does not grow with the bodies it refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { MAX_BODY_BYTES } from "../src/http/body.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix } from "./support/server.ts";

const MiB = 1024 * 1024;
const TOO_LARGE = { error: { code: "payload_too_large", message: "body: larger than 65536 bytes", field: "body" } };
const ROUTES = [
  ["POST", "/messages"],
  ["POST", "/timer"],
  ["POST", "/notify"],
  ["PUT", "/timer/1/modify"],
] as const;

/** `size` bytes of JSON whitespace, once (so the RSS check does not count the client's bodies). */
const BIG = new Uint8Array(2 * MiB).fill(0x20);
const bytes = (size: number) => (size <= BIG.byteLength ? BIG.subarray(0, size) : new Uint8Array(size).fill(0x20));

/** A chunked body of `size` bytes, produced 64 KiB at a time (never held whole). */
function chunked(size: number, prefix = new Uint8Array(0)): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === 0 && prefix.byteLength > 0) controller.enqueue(prefix.slice());
      if (sent >= size) return controller.close();
      const n = Math.min(64 * 1024, size - sent);
      controller.enqueue(BIG.slice(0, n));
      sent += n;
    },
  });
}

type Body = Uint8Array | ReadableStream<Uint8Array> | string;
const send = (app: Tickwire, method: string, path: string, body: Body) =>
  fetch(app.url + path, { method, body, headers: { "Content-Type": "application/json" }, duplex: "half" } as RequestInit);

/** Sends `body` and returns status, content type and parsed JSON (a network error fails the test). */
async function answer(app: Tickwire, method: string, path: string, body: Body) {
  const res = await send(app, method, path, body);
  return { status: res.status, type: res.headers.get("content-type"), json: await res.json() };
}

/** JSON `{"content":"hi"}` padded with spaces to exactly `size` bytes. */
function padded(size: number): Uint8Array {
  const out = new Uint8Array(size).fill(0x20);
  out.set(new TextEncoder().encode('{"content":"hi"'));
  out[size - 1] = "}".charCodeAt(0);
  return out;
}

/** Node's fetch (undici) in a child process: every case's status and JSON body, then a normal POST. */
const NODE_CLIENT = `
const [url] = process.argv.slice(1);
const MiB = 1024 * 1024;
const stream = (size) => { let sent = 0; return new ReadableStream({ pull(c) {
  if (sent >= size) return c.close(); const n = Math.min(65536, size - sent); c.enqueue(new Uint8Array(n).fill(32)); sent += n; } }); };
const cases = [];
for (const [method, path] of [["POST", "/messages"], ["POST", "/timer"]]) {
  cases.push([method, path, "content-length", () => new Uint8Array(2 * MiB).fill(32)]);
  cases.push([method, path, "chunked", () => stream(5 * MiB)]);
}
cases.push(["POST", "/messages", "content-length 50 MiB", () => new Uint8Array(50 * MiB).fill(32)]);
const out = [];
for (const [method, path, framing, body] of cases) {
  try {
    const res = await fetch(url + path, { method, body: body(), duplex: "half", headers: { "content-type": "application/json" } });
    out.push({ method, path, framing, status: res.status, body: await res.text() });
  } catch (e) {
    out.push({ method, path, framing, error: String(e) + " " + String(e.cause?.code ?? e.cause) });
  }
}
const ok = await fetch(url + "/messages", { method: "POST", body: JSON.stringify({ content: "after" }), headers: { "content-type": "application/json" } });
out.push({ after: ok.status });
console.log(JSON.stringify(out));
`;

describe.each(MODES)("body limit ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer(mode.env(uniquePrefix("body-limit")));
  });
  afterAll(() => app.stop());

  for (const [method, path] of ROUTES) {
    it(`${method} ${path}: a 2 MiB Content-Length body and a 5 MiB chunked one get the JSON 413 (Bun fetch)`, async () => {
      const expected = { status: 413, type: "application/json", json: TOO_LARGE };
      expect(await answer(app, method, path, bytes(2 * MiB))).toEqual(expected);
      expect(await answer(app, method, path, chunked(5 * MiB))).toEqual(expected);
    });
  }

  it("answers 50 MiB bodies, both framings, with the same JSON 413", async () => {
    expect((await answer(app, "POST", "/messages", bytes(50 * MiB))).json).toEqual(TOO_LARGE);
    expect((await answer(app, "POST", "/timer", chunked(50 * MiB))).json).toEqual(TOO_LARGE);
  }, 30_000);

  it("is read by Node's fetch (undici) without a network error, both framings, and the server answers after", async () => {
    const proc = Bun.spawn(["node", "--input-type=module", "-e", NODE_CLIENT, app.url], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    type NodeResult = { method: string; path: string; framing: string; status?: number; body?: string; error?: string };
    const results = JSON.parse(stdout) as NodeResult[];
    const after: unknown = results.pop();
    expect(results).toHaveLength(5);
    for (const { method, path, framing, status, body, error } of results) {
      const label = `${method} ${path} ${framing}`;
      const json = body === undefined ? undefined : JSON.parse(body);
      expect({ label, status, json, error }).toEqual({ label, status: 413, json: TOO_LARGE, error: undefined });
    }
    expect(after).toEqual({ after: 201 });
  }, 30_000);

  it("keeps bodies up to 64 KiB working (both framings), and 400 for empty and invalid JSON", async () => {
    for (const body of [padded(MAX_BODY_BYTES), chunked(MAX_BODY_BYTES - 16, new TextEncoder().encode('{"content":"hi"}'))]) {
      const res = await answer(app, "POST", "/messages", body);
      expect(res).toMatchObject({ status: 201, json: { content: "hi", status: "sent" } });
    }
    expect((await answer(app, "POST", "/messages", padded(MAX_BODY_BYTES + 1))).json).toEqual(TOO_LARGE);
    expect((await answer(app, "POST", "/messages", chunked(MAX_BODY_BYTES + 1))).json).toEqual(TOO_LARGE);
    expect(await answer(app, "POST", "/messages", "")).toMatchObject({ status: 400, json: { error: { code: "bad_request", field: "body" } } });
    expect(await answer(app, "POST", "/messages", chunked(0))).toMatchObject({ status: 400, json: { error: { field: "body" } } });
    expect(await answer(app, "POST", "/messages", "{nope")).toMatchObject({
      status: 400,
      json: { error: { code: "bad_request", message: "body: not valid JSON", field: "body" } },
    });
  });

  it("answers a 1 GiB chunked upload after its first few MiB: the server holds at most the limit", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 1024 * MiB) return controller.close();
        controller.enqueue(BIG.slice(0, 64 * 1024));
        pulled += 64 * 1024;
      },
    });
    const res = await send(app, "POST", "/messages", endless);
    const atAnswer = pulled;
    expect({ status: res.status, json: await res.json() }).toEqual({ status: 413, json: TOO_LARGE });
    expect(atAnswer).toBeLessThan(16 * MiB);
  });

  it("does not grow the server's memory by more than ~the limit over 20 oversized bodies, and answers after", async () => {
    const rss = () => {
      Bun.gc(true);
      return process.memoryUsage().rss;
    };
    await answer(app, "POST", "/messages", chunked(5 * MiB)); // warm up the paths measured below
    const before = rss();
    for (let i = 0; i < 10; i++) {
      expect((await answer(app, "POST", "/messages", bytes(2 * MiB))).status).toBe(413);
      expect((await answer(app, "POST", "/timer", chunked(5 * MiB))).status).toBe(413);
    }
    const grown = rss() - before;
    expect(grown).toBeLessThan(20 * MiB);
    const ok = await answer(app, "POST", "/messages", JSON.stringify({ content: "still here" }));
    expect(ok).toMatchObject({ status: 201, json: { content: "still here" } });
  });
});
