/**
 * Issue #20, `@tickwire/client` in Chromium (the bundle the page serves,
 * `/js/tickwire-client.js`), against real servers behind a TCP proxy:
 * - WebSocket and SSE (the browser's own EventSource): a cut path, a dead path (WebSocket: its
 *   unanswered ping), and `kill -9` of the server with a start on the same port (the SQLite
 *   file keeps the log): the page sees every acknowledged message exactly once, in order, and
 *   no `onRecovered`;
 * - a Redis restarted without persistence: `onRecovered({ recovered: false })`, never a duplicate;
 * - token refresh: with 3-second tokens the page's WebSocket stays open across expiry;
 * - presence in the page: the game master row says when its session's customer comes and goes.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { mintToken } from "../../src/auth/tokens.ts";
import type { Tickwire } from "../../src/main.ts";
import { checkDelivery } from "../support/client-recorder.ts";
import { DedicatedRedis, freePort } from "../support/dedicated-redis.ts";
import { type ChildServer, spawnServer, startServer, uniquePrefix } from "../support/server.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { until } from "../support/until.ts";
import { launchBrowser, openPage, PHONE } from "./browser.ts";

setDefaultTimeout(60_000);

/** Runs in Chromium; tsconfig has no DOM lib. */
declare const window: any;
declare const document: any;
declare const location: any;
/** The module path as the page imports it (a variable, so that tsc does not resolve it here). */
const CLIENT_MODULE = "/js/tickwire-client.js";

const dir = mkdtempSync(join(tmpdir(), "tw-e2e-client-"));
let browser: Browser;
const cleanups: (() => unknown)[] = [];
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  frames: string[];
  recovered: { recovered: boolean; reason: string }[];
  subscribed: number;
  states: string[];
}

/** Opens a page of `origin` whose client subscribes to chat; `mint` (optional) hands out tokens. */
async function chatPage(
  origin: string,
  transport: "websocket" | "sse",
  mint?: () => Promise<string>,
): Promise<{ page: Page; errors: string[]; seen(): Promise<Seen> }> {
  // A same-origin document to import the module in; the browser's own /favicon.ico request is answered, not a 404.
  const context = await browser.newContext();
  await context.route("**/favicon.ico", (r) => r.fulfill({ status: 204 }));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  await page.goto(`${origin}/favicon.svg`);
  if (mint) await page.exposeFunction("mintToken", mint);
  await page.evaluate(
    async ({ transport, withToken, module }) => {
      const { connect } = await import(module);
      const seen = { frames: [] as string[], recovered: [] as unknown[], subscribed: 0, states: [] as string[] };
      window.seen = seen;
      const client = connect(location.origin, {
        transport,
        backoff: { initialMs: 50, maxMs: 300 },
        pingIntervalMs: 200,
        requestTimeoutMs: 1000,
        ...(withToken ? { getToken: () => window.mintToken() } : {}),
      });
      client.onState((s: string) => seen.states.push(s));
      client.subscribe("chat", {
        onMessage: (f: { content: string }) => seen.frames.push(f.content),
        onRecovered: (info: unknown) => seen.recovered.push(info),
        onSubscribed: () => seen.subscribed++,
      });
      window.client = client;
    },
    { transport, withToken: mint !== undefined, module: CLIENT_MODULE },
  );
  return { page, errors, seen: () => page.evaluate(() => JSON.parse(JSON.stringify(window.seen))) };
}

async function post(url: string, content: string, token?: string): Promise<boolean> {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(`${url}/messages`, { method: "POST", headers, body: JSON.stringify({ content }) }).catch(() => undefined);
  return res?.status === 201;
}

/** Awaits `check(window.seen, arg)` in the page. */
const waitSeen = <A>(page: Page, check: (seen: Seen, arg: A) => boolean, arg?: A) =>
  page.waitForFunction(
    ({ check, arg }) => new Function("seen", "arg", `return (${check})(seen, arg)`)(window.seen, arg),
    { check: check.toString(), arg },
    { timeout: 20_000 },
  );

for (const transport of ["websocket", "sse"] as const) {
  describe(`browser: @tickwire/client over ${transport}`, () => {
    it("a cut path, then kill -9 of the server: every acked message once, in order, no onRecovered", async () => {
      const port = freePort();
      const env = { DATABASE_URL: `sqlite:${join(dir, `${transport}.db`)}`, PORT: String(port) };
      let server: ChildServer = await spawnServer(env);
      cleanups.push(() => server.proc.kill(9));
      const proxy = await TcpProxy.start(port);
      cleanups.push(() => proxy.stop());
      const origin = `http://127.0.0.1:${proxy.port}`;
      const { page, errors, seen } = await chatPage(origin, transport);
      await waitSeen(page, (s) => s.subscribed >= 1);
      const acked: string[] = [];
      const publish = async (content: string) => {
        if (await post(server.url, content)) acked.push(content);
      };
      await publish("first");
      await waitSeen(page, (s) => s.frames.length >= 1);

      proxy.cut();
      await waitSeen(page, (s) => s.states.at(-1) !== "connected");
      for (let i = 0; i < 10; i++) await publish(`cut-${i}`);
      proxy.restore();
      await waitSeen(page, (s) => s.subscribed >= 2);

      if (transport === "websocket") {
        proxy.blackhole();
        for (let i = 0; i < 5; i++) await publish(`dead-${i}`);
        await waitSeen(page, (s) => s.states.at(-1) !== "connected");
        proxy.restore();
      }

      server.proc.kill(9);
      await server.exited;
      server = await spawnServer(env);
      for (let i = 0; i < 10; i++) await publish(`restarted-${i}`);
      await waitSeen(page, (s, n) => s.frames.length >= n, acked.length);

      const got = await seen();
      checkDelivery(got.frames, acked, got.recovered as never);
      expect(got.frames).toEqual(acked);
      expect(got.recovered).toEqual([]);
      expect(errors).toEqual([]);
      await page.context().close();
    });
  });
}

describe("browser: @tickwire/client across a Redis restarted without persistence", () => {
  it("announces the lost history with onRecovered(recovered:false) and never shows a message twice", async () => {
    const redis = new DedicatedRedis(freePort());
    cleanups.push(() => redis.dispose());
    await redis.start();
    const app: Tickwire = await startServer({ REDIS_URL: redis.url, STREAM_PREFIX: uniquePrefix("e2e-client-redis"), DATABASE_URL: "sqlite::memory:" });
    cleanups.push(() => app.stop());
    const { page, errors, seen } = await chatPage(app.url, "websocket");
    await waitSeen(page, (s) => s.subscribed >= 1);
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) if (await post(app.url, `old-${i}`)) acked.push(`old-${i}`);
    await waitSeen(page, (s) => s.frames.length >= 5);

    await redis.kill();
    await redis.start();
    await until(async () => (await fetch(`${app.url}/health`)).status === 200, { message: "/health 200 again", timeoutMs: 15_000 });
    await waitSeen(page, (s) => s.recovered.length >= 1);
    for (let i = 0; i < 5; i++) if (await post(app.url, `new-${i}`)) acked.push(`new-${i}`);
    await waitSeen(page, (s) => s.frames.includes("new-4"));

    const got = await seen();
    checkDelivery(got.frames, acked, got.recovered as never);
    expect(got.recovered[0]).toMatchObject({ recovered: false });
    for (const m of acked.filter((a) => a.startsWith("new-"))) expect(got.frames).toContain(m);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe("browser: @tickwire/client token refresh", () => {
  it("keeps the WebSocket open across the token's expiry", async () => {
    const SECRET = "e2e-client-secret-0123456789";
    const app: Tickwire = await startServer({ JWT_SECRET: SECRET, JWT_MAX_TTL: "1h" });
    cleanups.push(() => app.stop());
    const everything = { sub: "page", publish: ["*"], subscribe: ["*"] };
    // 5 s: the refresh goes out a third of the life before exp, time enough on a busy machine.
    const first = await mintToken(SECRET, { ...everything, expiresIn: 5 });
    let issued = 0;
    const { page, errors, seen } = await chatPage(app.url, "websocket", async () =>
      issued++ === 0 ? first : mintToken(SECRET, { ...everything, expiresIn: 5 }),
    );
    await waitSeen(page, (s) => s.subscribed >= 1);
    const exp = (JSON.parse(atob(first.split(".")[1]!)) as { exp: number }).exp * 1000;
    await until(() => Date.now() > exp + 1000, { message: "the first token to expire", timeoutMs: 10_000 });
    expect(await post(app.url, "after expiry", await mintToken(SECRET, { ...everything, expiresIn: 60 }))).toBe(true);
    await waitSeen(page, (s) => s.frames.includes("after expiry"));
    expect((await seen()).states).toEqual(["connecting", "connected"]);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe("browser: presence in the game master panel", () => {
  it("shows when a session's customer connects and leaves", async () => {
    const app: Tickwire = await startServer();
    cleanups.push(() => app.stop());
    const session = `pres-${Date.now().toString(36)}`;
    const gm = await openPage(browser, app.url);
    await gm.page.waitForSelector("#gm-status[data-state=live]");
    await gm.page.fill("#gm-session", session);
    await gm.page.fill("#gm-max", "600");
    await gm.page.click("#gm-create button[type=submit]");
    const customers = gm.page.locator("#gm-timers > li .customers").first();
    await gm.page.waitForFunction(() => document.querySelector("#gm-timers > li .customers")?.dataset.customers === "0");
    expect(await customers.textContent()).toBe("no customer");

    const customer = await openPage(browser, `${app.url}/?session=${session}#customer`, PHONE);
    await gm.page.waitForFunction(() => document.querySelector("#gm-timers > li .customers")?.dataset.customers === "1");
    expect(await customers.textContent()).toBe("1 customer");
    await customer.context.close();
    await gm.page.waitForFunction(() => document.querySelector("#gm-timers > li .customers")?.dataset.customers === "0");
    expect([...gm.errors, ...customer.errors]).toEqual([]);
    await gm.context.close();
  });
});
