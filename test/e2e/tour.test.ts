/**
 * The whole page in use, for the eye: timers in every state, a watched session, chat and relay
 * traffic and a few seconds of metrics. Saves desktop (light and dark) and phone screenshots;
 * with `UPDATE_DOCS_SCREENSHOT=1` it also refreshes the README's `docs/screenshot.png`.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { Tickwire } from "../../src/main.ts";
import { startServer } from "../support/server.ts";
import { DOCS_SCREENSHOT, launchBrowser, openPage, PHONE, screenshot } from "./browser.ts";

// Real browsers and servers on a busy 2-core CI box: generous, so `bun test test/e2e` works alone too.
setDefaultTimeout(30_000);

/** Functions handed to page.evaluate/waitForFunction run in Chromium; tsconfig has no DOM lib. */
declare const document: any;

let app: Tickwire;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startServer(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<{ id: number }> {
  const res = await fetch(app.url + path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.ok).toBe(true);
  return (await res.json()) as { id: number };
}

/** What the page shows so far, for the condition below and for its failure message. */
function progress(page: Page) {
  return page.evaluate(() => ({
    timers: document.querySelectorAll("#gm-timers > li").length,
    chat: document.querySelectorAll("#chat-log > li").length,
    relay: document.querySelectorAll("#relay-log > li").length,
    samples: Number(document.getElementById("m-chart")?.dataset.samples),
    ticks: Number(document.getElementById("clock-time")?.dataset.ticks),
    hidden: document.hidden,
  }));
}

/** Waits for the traffic to show and for a few seconds of chart; says what was missing if not. */
async function settle(page: Page, want: { timers: number; chat: number; relay: number; samples: number }): Promise<void> {
  try {
    await page.waitForFunction(
      (w) =>
        document.querySelectorAll("#gm-timers > li").length === w.timers &&
        document.querySelectorAll("#chat-log > li").length >= w.chat &&
        document.querySelectorAll("#relay-log > li").length >= w.relay &&
        Number(document.getElementById("m-chart")?.dataset.samples) >= w.samples &&
        Number(document.getElementById("clock-time")?.dataset.ticks) >= w.samples,
      want,
      { timeout: 30_000 },
    );
  } catch (error) {
    throw new Error(`page did not settle: ${JSON.stringify(await progress(page))}, wanted ${JSON.stringify(want)}`, { cause: error });
  }
}

describe("browser: the page in use", () => {
  it("renders every panel populated, on desktop (light, dark) and phone", async () => {
    // The light desktop view (the README's screenshot) opens last, once the others have loaded,
    // so its tick-delay chart does not start with the other pages' start-up.
    const dark = await openPage(browser, `${app.url}/?session=table-1`, undefined, "dark");
    const phone = await openPage(browser, `${app.url}/?session=table-1`, PHONE);
    for (const { page } of [dark, phone]) await page.waitForSelector("#chat-status[data-state=live]");
    const light = await openPage(browser, `${app.url}/?session=table-1`);
    const views = [light, dark, phone];
    // Broadcasters get live messages only: every page listens before anything is sent.
    for (const { page } of views) await page.waitForSelector("#relay-broadcast-status[data-state=live]");
    const running = await api("POST", "/timer", { sessionId: "table-1", maxTime: 900 });
    const paused = await api("POST", "/timer", { sessionId: "table-2", maxTime: 300 });
    await api("POST", "/timer", { sessionId: "table-3", maxTime: 1 });
    await api("PUT", `/timer/${paused.id}/pause`);
    expect(running.id).toBeGreaterThan(0);
    for (const [user, content] of [
      ["gm", "Welcome! Your timer starts now."],
      ["table-1", "Can we get a hint for the second lock?"],
      ["gm", "Look behind the painting."],
    ]) {
      await fetch(`${app.url}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user, content }) });
    }
    const manager = new WebSocket(`${app.url.replace("http", "ws")}/ws/manager`);
    await new Promise((resolve) => (manager.onopen = resolve));
    manager.send('{"event":"door_opened","room":"table-1"}');
    manager.send("lights: dim to 30%");

    for (const { page } of views) await settle(page, { timers: 3, chat: 3, relay: 2, samples: 10 });
    await screenshot(views[0]!.page, "tour-desktop");
    await screenshot(views[1]!.page, "tour-desktop-dark");
    await screenshot(views[2]!.page, "tour-phone");
    if (process.env.UPDATE_DOCS_SCREENSHOT === "1") {
      await views[0]!.page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
    }
    for (const view of views) expect(view.errors).toEqual([]);
    manager.close();
    for (const view of views) await view.context.close();
  }, 60_000);
});
