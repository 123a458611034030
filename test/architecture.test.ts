/**
 * The shape of `src/` (issue #14, README "Layout"), checked on every run: layers only import
 * downwards, no import cycles, the core is pure, transports and features do not reach into each
 * other, and files stay small.
 */
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");

/** Lowest first: a file may import its own layer or a lower one. */
const LAYERS = ["base", "core", "infra", "http", "auth", "transports", "app", "ops", "features", "main"] as const;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const files = walk(SRC);
const sources = files.filter((f) => !f.endsWith(".test.ts"));
const rel = (f: string) => relative(SRC, f);

function layerOf(file: string): (typeof LAYERS)[number] {
  const path = rel(file);
  if (path === "main.ts") return "main";
  const top = path.split("/")[0]!;
  if (path === "log.ts" || top === "config") return "base";
  if (!(LAYERS as readonly string[]).includes(top)) throw new Error(`${path}: not in a known layer folder`);
  return top as (typeof LAYERS)[number];
}

/** `src/`-relative imports of `file` (type-only ones included), resolved to absolute paths. */
function importsOf(file: string): { spec: string; target?: string }[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"'`;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map(
    (m) => m[1] ?? m[2]!,
  );
  return specs.map((spec) => (spec.startsWith(".") ? { spec, target: resolve(dirname(file), spec) } : { spec }));
}

const graph = new Map(
  sources.map((f) => [
    f,
    importsOf(f)
      .filter((i) => i.target?.startsWith(SRC))
      .map((i) => i.target!),
  ]),
);

describe("architecture of src/", () => {
  it("imports only from the same or a lower layer (base ← core ← infra ← http ← auth ← transports ← app ← ops ← features ← main)", () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (LAYERS.indexOf(layerOf(target)) > LAYERS.indexOf(layerOf(file))) upward.push(`${rel(file)} → ${rel(target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("keeps the transports equals and the features independent: neither imports a sibling", () => {
    const sideways: string[] = [];
    for (const [file, targets] of graph) {
      const [top, own] = rel(file).split("/");
      if (top !== "transports" && top !== "features") continue;
      for (const target of targets) {
        const [ttop, other] = rel(target).split("/");
        if (ttop === top && other !== own) sideways.push(`${rel(file)} → ${rel(target)}`);
      }
    }
    expect(sideways).toEqual([]);
  });

  it("has no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map(rel).join(" → "));
        return;
      }
      state.set(file, "visiting");
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it("keeps the core pure: no runtime, I/O or package imports, and the hub knows no transport", () => {
    const impure = sources
      .filter((f) => layerOf(f) === "core")
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => !i.spec.startsWith("./"))
          .map((i) => `${rel(f)} imports ${i.spec}`),
      );
    expect(impure).toEqual([]);
    const hub = readFileSync(join(SRC, "core/hub.ts"), "utf8");
    expect(hub).not.toMatch(/sseEvent|TextEncoder|ServerWebSocket|Bun\./);
  });

  it("keeps every file under 300 lines and the median file at about 2 KB", () => {
    const long = files.filter((f) => readFileSync(f, "utf8").split("\n").length > 300).map(rel);
    expect(long).toEqual([]);
    const sizes = files.map((f) => statSync(f).size).sort((a, b) => a - b);
    const median = sizes[Math.floor((sizes.length - 1) / 2)]!;
    expect(median).toBeLessThanOrEqual(2048);
  });

  it("gives every feature its entry at features/<name>/index.ts", () => {
    const features = readdirSync(join(SRC, "features"));
    expect(features.filter((name) => !sources.includes(join(SRC, "features", name, "index.ts")))).toEqual([]);
  });
});
