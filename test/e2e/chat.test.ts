/**
 * Chat over SSE in real browsers: a message typed in one context appears in another; and with
 * Redis as the log, a page whose server is killed and started again on the same port reconnects
 * by itself and shows the messages posted meanwhile exactly once, in order.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { Tickwire } from "../../src/main.ts";
import { type ChildServer, REDIS_URL, spawnServer, startServer, uniquePrefix } from "../support/server.ts";
import { launchBrowser, openPage, screenshot, texts } from "./browser.ts";

// Real browsers and servers on a busy 2-core CI box: generous, so `bun test test/e2e` works alone too.
setDefaultTimeout(30_000);

/** Functions handed to page.evaluate/waitForFunction run in Chromium; tsconfig has no DOM lib. */
declare const document: any;

let browser: Browser;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await browser?.close();
});

async function send(page: Page, content: string, user?: string): Promise<void> {
  if (user !== undefined) await page.fill("#chat-user", user);
  await page.fill("#chat-input", content);
  await page.press("#chat-input", "Enter");
}

/** Waits until the chat log shows `count` messages. */
async function waitForCount(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll("#chat-log > li").length >= n, count);
}

/** Message texts and seqs as shown, in order. */
async function shown(page: Page): Promise<{ contents: string[]; seqs: string[] }> {
  return {
    contents: await texts(page, "#chat-log > li .text"),
    seqs: await page.locator("#chat-log > li").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-seq")!)),
  };
}

function ascending(seqs: string[]): boolean {
  const key = (s: string) => s.split("-").map(Number) as [number, number];
  return seqs.every((s, i) => i === 0 || key(seqs[i - 1]!)[0] < key(s)[0] || (key(seqs[i - 1]!)[0] === key(s)[0] && key(seqs[i - 1]!)[1] < key(s)[1]));
}

async function post(url: string, content: string): Promise<void> {
  const res = await fetch(`${url}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ content, user: "outside" }),
  });
  expect(res.status).toBe(201);
}

describe("browser: chat over SSE", () => {
  it("shows a message typed in one context in another, once, in the same order", async () => {
    const app: Tickwire = await startServer();
    cleanups.push(() => app.stop());
    const alice = await openPage(browser, app.url);
    const bob = await openPage(browser, app.url);
    await alice.page.waitForSelector("#chat-status[data-state=live]");
    await bob.page.waitForSelector("#chat-status[data-state=live]");

    await send(alice.page, "hello from alice", "alice");
    await waitForCount(bob.page, 1);
    await send(bob.page, "hi alice, bob here", "bob");
    await send(alice.page, "<b>not bold</b> & fine", "alice");
    await waitForCount(bob.page, 3);
    await waitForCount(alice.page, 3);

    const expected = ["hello from alice", "hi alice, bob here", "<b>not bold</b> & fine"];
    expect((await shown(alice.page)).contents).toEqual(expected);
    expect((await shown(bob.page)).contents).toEqual(expected);
    expect(await texts(bob.page, "#chat-log > li .who")).toEqual(["alice", "bob", "alice"]);
    // Markup in a message is text, never HTML.
    expect(await bob.page.locator("#chat-log b").count()).toBe(0);
    // The sender's own messages are marked.
    expect(await alice.page.locator("#chat-log > li.mine").count()).toBe(2);
    await screenshot(bob.page, "chat");
    expect([...alice.errors, ...bob.errors]).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  it("shows history on load, then resumes after a server restart with every message exactly once, in order (Redis log)", async () => {
    const env = { REDIS_URL, STREAM_PREFIX: uniquePrefix("e2e-chat"), DATABASE_URL: "sqlite::memory:" };
    let server: ChildServer = await spawnServer(env);
    cleanups.push(() => server.proc.kill(9));
    const port = server.port;

    await post(server.url, "history-1");
    const { page, context, errors } = await openPage(browser, server.url);
    await page.waitForSelector("#chat-status[data-state=live]");
    await waitForCount(page, 1);
    await send(page, "before-1", "carol");
    // The page shows its own message once the POST answered (it needs the seq): only then is
    // "before-1" stored, so "before-2" cannot overtake it.
    await waitForCount(page, 2);
    await post(server.url, "before-2");
    await waitForCount(page, 3);

    // The server dies hard; the page notices.
    server.proc.kill(9);
    await server.exited;
    await page.waitForSelector("#chat-status:not([data-state=live])");

    // Meanwhile messages are posted through another instance on the same Redis log.
    const other = await startServer(env);
    for (const content of ["during-1", "during-2", "during-3"]) await post(other.url, content);
    await other.stop();

    // The server comes back on the same port; the page reconnects by itself (Last-Event-ID).
    server = await spawnServer({ ...env, PORT: String(port) });
    await waitForCount(page, 6);
    await page.waitForSelector("#chat-status[data-state=live]");
    await post(server.url, "after-1");
    await waitForCount(page, 7);

    // It was the browser's own EventSource reconnect (sending Last-Event-ID) that caught up:
    // the panel never had to start over from the history.
    expect(await page.locator("#chat-log").getAttribute("data-starts")).toBe("1");
    const { contents, seqs } = await shown(page);
    expect(contents).toEqual(["history-1", "before-1", "before-2", "during-1", "during-2", "during-3", "after-1"]);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(ascending(seqs)).toBe(true);
    await screenshot(page, "chat-after-restart");
    expect(errors).toEqual([]);
    await context.close();
    server.proc.kill("SIGTERM");
    await server.exited;
  }, 45_000);
});
