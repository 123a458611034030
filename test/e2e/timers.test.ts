/**
 * The game master panel and the customer view in two browser contexts against one real server:
 * a timer created in the panel counts down on the customer's page, and pause, resume, modify,
 * expiry and stop reach both, live.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Browser, Page } from "playwright-core";
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

/** Seconds shown on a countdown (`m:ss`). */
function seconds(text: string | null): number {
  const [m, s] = (text ?? "").trim().split(":").map(Number);
  return m! * 60 + s!;
}

async function createTimer(gm: Page, sessionId: string, maxTime: number): Promise<string> {
  const before = await gm.locator("#gm-timers > li").count();
  await gm.fill("#gm-session", sessionId);
  await gm.fill("#gm-max", String(maxTime));
  await gm.click("#gm-create button[type=submit]");
  await gm.locator("#gm-timers > li").nth(before).waitFor();
  return (await gm.locator("#gm-timers > li").nth(before).getAttribute("data-id"))!;
}

describe("browser: game master and customer", () => {
  it("counts a timer created by the game master down on a customer page in another context", async () => {
    const session = `e2e-${Date.now().toString(36)}`;
    const gm = await openPage(browser, app.url);
    await gm.page.waitForSelector("#gm-status[data-state=live]");
    const id = await createTimer(gm.page, session, 90);
    const gmRow = gm.page.locator(`#gm-timers > li[data-id="${id}"]`);
    expect(await gmRow.locator(".timer-title").textContent()).toBe(`#${id} · ${session}`);

    // The customer opens the link the panel offers for that session.
    const link = await gm.page.locator("#gm-customer-link").getAttribute("href");
    expect(new URL(link!).searchParams.get("session")).toBe(session);
    const customer = await openPage(browser, link!, PHONE);
    const countdown = customer.page.locator(`#customer-timers > li[data-id="${id}"]`);
    await countdown.waitFor();
    const shownFirst = seconds(await countdown.locator(".digits").textContent());
    expect(shownFirst).toBeLessThanOrEqual(90);
    // Live: the digits go down as TIMER_UPDATE frames arrive, and the bar's value follows.
    await customer.page.waitForFunction(
      ([sel, first]) => {
        const [m, s] = (document.querySelector(`${sel} .digits`)?.textContent ?? "").split(":").map(Number);
        return m! * 60 + s! <= (first as number) - 2;
      },
      [`#customer-timers > li[data-id="${id}"]`, shownFirst] as const,
    );
    expect(Number(await countdown.locator("[role=progressbar]").getAttribute("aria-valuenow"))).toBeGreaterThanOrEqual(2);
    await screenshot(customer.page, "customer-phone");

    // Pause from the panel, by keyboard: both views say paused, and focus moves to Resume.
    await gmRow.getByRole("button", { name: "Pause" }).focus();
    await gm.page.keyboard.press("Enter");
    await countdown.and(customer.page.locator("[data-status=paused]")).waitFor();
    await gmRow.and(gm.page.locator("[data-status=paused]")).waitFor();
    expect(await gmRow.getByRole("button", { name: "Pause" }).isDisabled()).toBe(true);
    await gm.page.waitForFunction(() => document.activeElement?.textContent === "Resume");
    expect(await customer.page.locator("#customer-announce").textContent()).toBe(`Timer ${id} paused`);

    await gm.page.keyboard.press("Enter");
    await countdown.and(customer.page.locator("[data-status=running]")).waitFor();

    // Modify to 10 minutes: the customer's countdown jumps up.
    await gmRow.getByLabel("Length (s)").fill("600");
    await gmRow.getByRole("button", { name: "Modify" }).click();
    await customer.page.waitForFunction(
      (sel) => document.querySelector(`${sel} [role=progressbar]`)?.getAttribute("aria-valuemax") === "600",
      `#customer-timers > li[data-id="${id}"]`,
    );
    expect(seconds(await countdown.locator(".digits").textContent())).toBeGreaterThan(500);
    await screenshot(gm.page, "game-master");

    // Stop: the timer leaves both views.
    await gmRow.getByRole("button", { name: "Stop" }).click();
    await countdown.waitFor({ state: "detached" });
    await gmRow.waitFor({ state: "detached" });
    await customer.page.locator("#customer-empty:not([hidden])").waitFor();
    expect(gm.errors).toEqual([]);
    expect(customer.errors).toEqual([]);
    await gm.context.close();
    await customer.context.close();
  });

  it("shows a finished timer when its time runs out", async () => {
    const session = `e2e-exp-${Date.now().toString(36)}`;
    const customer = await openPage(browser, `${app.url}/?session=${session}`);
    await customer.page.waitForSelector("#customer-status[data-state=live]");
    const gm = await openPage(browser, app.url);
    const id = await createTimer(gm.page, session, 2);
    const countdown = customer.page.locator(`#customer-timers > li[data-id="${id}"]`);
    await countdown.and(customer.page.locator("[data-status=finished]")).waitFor();
    expect(await countdown.locator(".digits").textContent()).toBe("0:00");
    await gm.page.locator(`#gm-timers > li[data-id="${id}"][data-status=finished]`).waitFor();
    expect(customer.errors).toEqual([]);
    await gm.context.close();
    await customer.context.close();
  });

  it("names the server's validation error in the panel", async () => {
    const gm = await openPage(browser, app.url);
    // Bypass the browser's own validation to see the server's answer.
    await gm.page.evaluate(() => document.getElementById("gm-max")!.removeAttribute("max"));
    await gm.page.fill("#gm-max", "999999999");
    await gm.page.click("#gm-create button[type=submit]");
    await gm.page.locator("#gm-error:not([hidden])").waitFor();
    expect(await gm.page.locator("#gm-error").textContent()).toContain("maxTime");
    await gm.context.close();
  });
});
