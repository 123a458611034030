/**
 * Driving Debian's Chromium from the e2e tests (playwright-core, no bundled browser download).
 * Every page records uncaught errors and console errors so a test can assert the page ran clean.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(import.meta.dir, "screenshots");
/** Where the README's screenshot lives (committed). */
export const DOCS_SCREENSHOT = join(import.meta.dir, "../../docs/screenshot.png");

export const DESKTOP = { width: 1360, height: 900 };
export const PHONE = { width: 390, height: 844 };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

export interface OpenPage {
  page: Page;
  context: BrowserContext;
  /** Uncaught exceptions and `console.error` lines seen so far. */
  errors: string[];
}

/** A fresh context (own localStorage) with one page at `url`. */
export async function openPage(browser: Browser, url: string, viewport = DESKTOP, colorScheme: "light" | "dark" = "light"): Promise<OpenPage> {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    // A refused connection while a test has the server down is expected; the page recovers.
    if (msg.type() === "error" && !/ERR_CONNECTION_REFUSED|WebSocket connection|net::ERR_/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  await page.goto(url);
  return { page, context, errors };
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** Texts of every element matching `selector`, in document order. */
export function texts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allTextContents();
}
