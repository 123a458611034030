/**
 * The page's cron clock and server panel against a real server: the clock advances tick by
 * tick from `/ws`, and the panel reads connections and delivery rates from `/metrics`.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Browser } from "playwright-core";
import type { Tickwire } from "../../src/main.ts";
import { startServer } from "../support/server.ts";
import { launchBrowser, openPage, PHONE, screenshot } from "./browser.ts";

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

describe("browser: cron clock and server panel", () => {
  it("serves the page, its stylesheet and modules with no-cache", async () => {
    for (const [path, type] of [
      ["/", "text/html"],
      ["/app.css", "text/css"],
      ["/app.js", "text/javascript"],
      ["/js/chat.js", "text/javascript"],
    ]) {
      const res = await fetch(app.url + path!);
      expect({ path, status: res.status, type: res.headers.get("content-type")?.split(";")[0], cache: res.headers.get("cache-control") }).toEqual({
        path,
        status: 200,
        type,
        cache: "no-cache",
      });
    }
    expect((await fetch(`${app.url}/js/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it("advances the clock once per cron tick", async () => {
    const { page, context, errors } = await openPage(browser, app.url);
    await page.waitForFunction(() => Number(document.getElementById("clock-time")?.dataset.ticks) >= 1);
    const first = await page.locator("#clock-time").getAttribute("datetime");
    await page.waitForFunction(() => Number(document.getElementById("clock-time")?.dataset.ticks) >= 3);
    const third = await page.locator("#clock-time").getAttribute("datetime");
    // Ticks are wall-clock boundaries one period apart: two ticks later is exactly 2 s later.
    expect(Date.parse(third!) - Date.parse(first!)).toBe(2000);
    expect(await page.locator("#clock-time").textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(await page.locator("#clock-status").getAttribute("data-state")).toBe("live");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("shows connections and delivery rates from /metrics, with a chart", async () => {
    const { page, context, errors } = await openPage(browser, app.url);
    // The page itself holds WS sockets (clock, game master, customer, relay ×2) and one SSE stream.
    await page.waitForFunction(() => Number(document.getElementById("m-ws")?.textContent) >= 5 && Number(document.getElementById("m-sse")?.textContent) >= 1);
    // Two polls give a rate; cron delivers one frame a second to the clock.
    await page.waitForFunction(
      () => Number(document.getElementById("m-chart")?.dataset.samples) >= 2 && document.querySelector('#m-chart polyline[data-topic="cron"]') !== null,
    );
    await page.waitForFunction(() => Number(document.getElementById("m-rate")?.textContent) > 0);
    expect(await page.locator("#m-legend .key").first().textContent()).toMatch(/\/s$/);
    await screenshot(page, "desktop-overview");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("reads at phone width without sideways scrolling", async () => {
    const { page, context, errors } = await openPage(browser, app.url, PHONE);
    await page.waitForFunction(() => Number(document.getElementById("clock-time")?.dataset.ticks) >= 1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await screenshot(page, "phone-overview");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("labels every control and reaches them by keyboard", async () => {
    const { page, context } = await openPage(browser, app.url);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("input, button")]
        .filter((el) => {
          const input = el;
          if (input.labels && input.labels.length > 0) return false;
          return !(el.getAttribute("aria-label") || el.textContent?.trim());
        })
        .map((el) => el.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    // Tab from the top reaches the token field, then the chat input can be focused and used.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("token");
    await context.close();
  });
});
