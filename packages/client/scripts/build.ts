/**
 * Builds `dist/`: `index.js` (one ESM bundle, no dependencies, for browsers, Bun and Node ≥ 20)
 * and the `.d.ts` files (tsc), whose relative imports are rewritten from `.ts` to `.js` so that
 * every TypeScript resolution mode finds them. With `--public` it also copies the bundle to
 * `public/js/tickwire-client.js`, the file the browser client loads (committed, so that the page
 * needs no build step).
 *
 * Run: `bun packages/client/scripts/build.ts [--public]` (root script `npm run build:client`).
 * @module
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
// The bundle names its sources relative to the working directory: the same bytes from anywhere.
process.chdir(root);

rmSync(dist, { recursive: true, force: true });
const built = await Bun.build({ entrypoints: [join(root, "src/index.ts")], outdir: dist, target: "browser", format: "esm", naming: "index.js" });
if (!built.success) {
  for (const log of built.logs) console.error(log);
  process.exit(1);
}
const tsc = Bun.spawnSync([process.execPath, join(root, "../../node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], {
  stdio: ["ignore", "inherit", "inherit"],
});
if (tsc.exitCode !== 0) process.exit(tsc.exitCode ?? 1);
for (const name of readdirSync(dist)) {
  if (!name.endsWith(".d.ts")) continue;
  const path = join(dist, name);
  writeFileSync(path, readFileSync(path, "utf8").replace(/(from\s+["']\.{1,2}\/[^"']+)\.ts(["'])/g, "$1.js$2"));
}
if (process.argv.includes("--public")) {
  const banner = "// @tickwire/client, built from packages/client by `npm run build:client`: do not edit.\n";
  writeFileSync(join(root, "../../public/js/tickwire-client.js"), banner + readFileSync(join(dist, "index.js"), "utf8"));
}
console.log(`built ${dist}${process.argv.includes("--public") ? " and public/js/tickwire-client.js" : ""}`);
