/**
 * Issue #19: the README's quick start, followed literally as a newcomer would, in a clean clone
 * of this repository and with a PATH that has Node.js and npm but no `bun`. The commands are read
 * from the README's "Quick start" block, so this test follows the README, not a copy of it:
 * - `npm ci` prints no install-script notice (the scripts the project relies on are declared);
 * - `npm start`, on a terminal (`script` gives it one), prints first a line naming the URL to
 *   open, the mode and auth, and that URL's `/health` answers 200;
 * - `npm test` runs, limited to one small test file (the whole suite would run this test again);
 * - every command the README and docs show runs without a global `bun` (`npm run …`, `npx bun …`),
 *   names a script that exists, and quotes URLs with a query; `npm run token` and `npx bun` work.
 * `PORT=0` in the environment keeps 8080 free for whoever uses it on this machine.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const DOCS = ["README.md", "docs/operations.md", "bench/README.md", "bench/load/fanout/README.md"];

/** The lines of the first `sh` block under "## Quick start", comments removed. */
function quickStartCommands(markdown: string): string[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Quick start"));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no ```sh block under "## Quick start"');
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

/** Commands shown in a Markdown file: lines of its code blocks, and inline code spans. */
function shownCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```(?:sh|bash)?\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split("\n"));
  const outside = markdown.replace(/```[\s\S]*?```/g, "");
  const spans = [...outside.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return [...blocks, ...spans].map((c) => c.trim()).filter(Boolean);
}

// Node.js, npm, a shell and `script`; no `bun` in any of their folders.
const PATH = [...new Set(["node", "npm", "sh", "script"].map((tool) => dirname(Bun.which(tool) ?? `/missing/${tool}`)))].join(":");
const ENV = { PATH, HOME: process.env.HOME ?? "/root", PORT: "0", TERM: "dumb" };

// Colour codes (ESC [ … m) and the terminal's carriage returns.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const clean = (text: string) => text.replace(ANSI, "").replaceAll("\r", "");

/** Runs `command` in `cwd` with the newcomer's environment; resolves with its exit code and output. */
async function run(command: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(["sh", "-c", `${command} 2>&1`], { cwd, env: { ...ENV, ...env }, stdout: "pipe" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { code, out: clean(out) };
}

describe("the README quick start, on a machine with only Node.js and npm", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const commands = quickStartCommands(readme);
  const dir = mkdtempSync(join(tmpdir(), "tw-quickstart-"));
  const clone = join(dir, "tickwire");

  beforeAll(() => {
    const cloned = Bun.spawnSync(["git", "clone", "-q", ROOT, clone], { stderr: "pipe" });
    if (cloned.exitCode !== 0) throw new Error(`git clone failed: ${cloned.stderr.toString()}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("has two commands, start and test, and a PATH without bun to run them", () => {
    expect(commands).toEqual([expect.stringContaining("npm start"), expect.stringContaining("npm test")]);
    expect(Bun.which("bun", { PATH })).toBeNull();
    expect(Bun.which("node", { PATH })).not.toBeNull();
  });

  it("starts: npm ci quietly, then a first line naming the URL, the mode and auth; /health answers there", async () => {
    // On a terminal, as a newcomer runs it: `script` gives the command a pseudo-terminal.
    const proc = Bun.spawn(["script", "-qfec", commands[0]!, "/dev/null"], { cwd: clone, env: ENV, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    try {
      const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let out = "";
      while (!/listening on .*\n/.test(clean(out))) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`exited before listening:\n${clean(out)}`);
        out += decoder.decode(value, { stream: true });
      }
      const lines = clean(out).split("\n");
      const banner = lines.findIndex((l) => l.startsWith("> ") && l.includes("src/main.ts"));
      expect(banner).toBeGreaterThan(0);
      const install = lines.slice(0, banner).join("\n");
      expect(install).not.toMatch(/install-scripts|allowScripts/);
      const first = lines.slice(banner + 1).find((l) => l.trim() !== "")!;
      const url = /tickwire listening on (http:\/\/localhost:\d+\/) /.exec(first)?.[1];
      expect(url, first).toBeString();
      expect(first).toContain("embedded");
      expect(first).toContain("auth off");
      const health = await fetch(`${url}health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe("ok");
      const page = await fetch(url!);
      expect(await page.text()).toContain("<html");
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  }, 150_000);

  it("tests: npm ci && npm test runs (here on one small file: the whole suite would run this test again)", async () => {
    const { code, out } = await run(`${commands[1]} -- test/until.test.ts`, clone);
    expect(out).not.toMatch(/install-scripts|allowScripts/);
    expect(code, out.slice(-2000)).toBe(0);
    expect(out).toMatch(/\b0 fail\b/);
  }, 150_000);

  it("every command in README and docs runs with npm or npx bun, names a script that exists, and quotes URLs with a query", () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    const problems: string[] = [];
    for (const file of DOCS) {
      for (const command of shownCommands(readFileSync(join(ROOT, file), "utf8"))) {
        if (/^bun\s/.test(command)) problems.push(`${file}: needs a global bun: ${command}`);
        for (const m of command.matchAll(/\bnpm run ([\w:-]+)/g)) if (!scripts.includes(m[1]!)) problems.push(`${file}: no script ${m[1]}: ${command}`);
        if (/^(curl|wget|websocat|wscat)\b/.test(command) && /\s[^'"\s]*\?[^'"\s]*/.test(command)) problems.push(`${file}: unquoted URL: ${command}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("npm run token, as the README shows it, and npx bun work in the clone", async () => {
    const token = /`(npm run token -- [^`]+)`/.exec(readme)?.[1];
    expect(token).toBeString();
    const minted = await run(token!, clone, { JWT_SECRET: "quickstart-secret-0123456789" });
    expect(minted.code, minted.out).toBe(0);
    expect(minted.out.trim().split("\n").at(-1)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const version = await run("npx bun --version", clone);
    expect(version.out.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies.bun);
  }, 60_000);
});
