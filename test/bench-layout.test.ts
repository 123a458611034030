/**
 * bench/ stands on its own: no benchmark imports anything from test/ (they share src/ only), and
 * every `bench:*` script in package.json names files that exist.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

describe("bench layout", () => {
  test("no file under bench/ imports from test/", async () => {
    const offenders: string[] = [];
    for await (const file of new Bun.Glob("bench/**/*.ts").scan({ cwd: ROOT })) {
      const text = await Bun.file(join(ROOT, file)).text();
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)) {
        const resolved = join(ROOT, file, "..", m[1]!);
        if (resolved.startsWith(`${join(ROOT, "test")}/`)) offenders.push(`${file}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("every bench:* script runs files that exist", async () => {
    const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { scripts: Record<string, string> };
    const scripts = Object.entries(pkg.scripts).filter(([name]) => name.startsWith("bench:"));
    expect(scripts.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const [name, command] of scripts) {
      const files = [...command.matchAll(/\bbun (bench\/\S+\.ts)/g)].map((m) => m[1]!);
      if (files.length === 0) missing.push(`${name}: no bench file in "${command}"`);
      for (const f of files) if (!existsSync(join(ROOT, f))) missing.push(`${name}: ${f}`);
    }
    expect(missing).toEqual([]);
  });
});
