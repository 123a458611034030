/**
 * The relay panel (send as manager, watch as broadcaster) between two browser contexts, and the
 * page with auth on: nothing connects without a token; one typed into the token field is kept in
 * localStorage and used for fetch (Bearer), WebSocket and SSE (`?token=`).
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Browser } from "playwright-core";
import { mintToken } from "../../src/auth/tokens.ts";
import type { Tickwire } from "../../src/main.ts";
import { startServer } from "../support/server.ts";
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

describe("browser: relay", () => {
  it("delivers what a manager sends to every broadcaster verbatim, in order", async () => {
    const app: Tickwire = await startServer();
    cleanups.push(() => app.stop());
    const manager = await openPage(browser, app.url);
    const watcher = await openPage(browser, app.url);
    // Broadcasters get live messages only, so both pages listen before anything is sent.
    for (const { page } of [manager, watcher]) {
      await page.waitForSelector("#relay-manager-status[data-state=live]");
      await page.waitForSelector("#relay-broadcast-status[data-state=live]");
    }

    const sent = ['{"score": 3, "team": "blue"}', "plain text, with  two spaces", "third ✓"];
    for (const text of sent) {
      await manager.page.fill("#relay-input", text);
      await manager.page.press("#relay-input", "Enter");
      // The input clears once the frame is out; keyboard focus stays for the next one.
      await manager.page.waitForFunction(() => document.getElementById("relay-input").value === "");
    }
    for (const { page } of [watcher, manager]) {
      await page.waitForFunction((n) => document.querySelectorAll("#relay-log > li").length >= n, sent.length);
      expect(await texts(page, "#relay-log > li pre")).toEqual(sent);
    }
    expect(await manager.page.evaluate(() => document.activeElement?.id)).toBe("relay-input");
    expect(await manager.page.locator("#relay-error").isHidden()).toBe(true);
    await screenshot(watcher.page, "relay");
    expect([...manager.errors, ...watcher.errors]).toEqual([]);
    await manager.context.close();
    await watcher.context.close();
  });
});

describe("browser: auth on", () => {
  it("connects nothing without a token and everything with one from the token field", async () => {
    const secret = "e2e-secret-that-is-long-enough-0123456789";
    const app: Tickwire = await startServer({ JWT_SECRET: secret });
    cleanups.push(() => app.stop());
    const { page, context } = await openPage(browser, app.url);
    // Without a token the sockets are refused and say why.
    await page.waitForSelector("#clock-status[data-state=closed]");
    await page.waitForSelector("#chat-status[data-state=closed]");

    const token = await mintToken(secret, { sub: "e2e", publish: ["*"], subscribe: ["*"], expiresIn: "10m" });
    await page.fill("#token", token);
    await page.press("#token", "Enter");
    await page.waitForFunction(() => Number(document.getElementById("clock-time")?.dataset.ticks) >= 1);
    await page.waitForSelector("#chat-status[data-state=live]");
    await page.waitForSelector("#relay-manager-status[data-state=live]");
    expect(await page.evaluate(() => localStorage.getItem("tickwire.token"))).toBe(token);

    // Bearer on fetch: the game master can create a timer and chat can post.
    await page.fill("#gm-session", "auth-room");
    await page.fill("#gm-max", "30");
    await page.click("#gm-create button[type=submit]");
    await page.locator("#gm-timers > li").first().waitFor();
    await page.fill("#chat-input", "with a token");
    await page.press("#chat-input", "Enter");
    await page.waitForFunction(() => document.querySelectorAll("#chat-log > li").length >= 1);

    // A reload keeps the token.
    await page.reload();
    await page.waitForSelector("#chat-status[data-state=live]");
    expect(await page.inputValue("#token")).toBe(token);
    await context.close();
  });
});
