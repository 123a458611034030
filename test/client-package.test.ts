/**
 * Issue #20, `@tickwire/client` as a package: `npm pack` builds it and packs `dist/` (ESM bundle
 * and types) with its README; the tarball, unpacked into a project of its own, runs on Node 20
 * (no WebSocket there: the client picks SSE over `fetch`) against a real server, and its types
 * check under Node16 module resolution; `public/js/tickwire-client.js` is the current build.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "./support/server.ts";

const ROOT = join(import.meta.dir, "..");
const PKG = join(ROOT, "packages/client");
const BIN = join(ROOT, "node_modules/.bin");
const dir = mkdtempSync(join(tmpdir(), "tw-client-pack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd: string[], cwd: string) => {
  const p = Bun.spawnSync(cmd, { cwd, env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
};

describe("@tickwire/client as a package", () => {
  let tarball = "";

  it("npm pack builds and packs dist (bundle and types), README and package.json", () => {
    const packed = run(["npm", "pack", "--pack-destination", dir, "--json"], PKG);
    expect(packed.code).toBe(0);
    // The prepack build prints a line before npm's JSON.
    const [info] = JSON.parse(packed.out.slice(packed.out.indexOf("\n[") + 1)) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, info!.filename);
    const files = info!.files.map((f) => f.path).sort();
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files).toContain("README.md");
    expect(files).toContain("package.json");
    expect(files.every((f) => f.startsWith("dist/") || f === "README.md" || f === "package.json")).toBe(true);
  });

  it("runs on Node 20 from the tarball (SSE over fetch) and its types check under Node16 resolution", async () => {
    const project = join(dir, "app");
    const modules = join(project, "node_modules/@tickwire");
    mkdirSync(modules, { recursive: true });
    expect(run(["tar", "-xzf", tarball, "-C", modules], project).code).toBe(0);
    run(["mv", join(modules, "package"), join(modules, "client")], project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    writeFileSync(
      join(project, "smoke.mjs"),
      `import { connect } from "@tickwire/client";
const client = connect(process.argv[2], { backoff: { initialMs: 20 } });
const sub = client.subscribe("chat", {
  onSubscribed: async () => { const ack = await client.publish("chat", { content: "from node" }); console.log(JSON.stringify({ ack })); },
  onMessage: (m) => { console.log(JSON.stringify({ content: m.content, seq: m.seq, ws: typeof WebSocket })); client.close(); },
});
setTimeout(() => { console.error("timed out", sub.lastSeq); process.exit(1); }, 10000).unref();
`,
    );
    const app = await startServer();
    try {
      const node = Bun.spawn(["node", "smoke.mjs", app.url], { cwd: project, stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = [await new Response(node.stdout).text(), await new Response(node.stderr).text(), await node.exited];
      expect({ code, err }).toEqual({ code: 0, err: "" });
      const lines = out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const ack = lines.find((l) => l.ack)?.ack;
      expect(lines.find((l) => l.content)).toEqual({ content: "from node", seq: ack.seq, ws: "undefined" });
    } finally {
      await app.stop();
    }

    writeFileSync(
      join(project, "typed.ts"),
      `import { type ChatFrame, connect, type PresenceSnapshot, type TimerFrame } from "@tickwire/client";
const client = connect("http://localhost:8080", { token: "t" });
client.subscribe("chat", { onMessage: (m: ChatFrame) => m.content.toUpperCase() });
client.subscribe("session:s1", { onMessage: (m: TimerFrame<"session:s1">) => m.payload.maxTime + 1 });
const p: Promise<PresenceSnapshot> = client.presence("chat");
void p;
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { module: "node16", moduleResolution: "node16", target: "es2022", strict: true, noEmit: true, lib: ["es2022", "dom"], types: [] },
        files: ["typed.ts"],
      }),
    );
    const tsc = run(["node", join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], project);
    expect(tsc.out + tsc.err).toBe("");
  });

  it("public/js/tickwire-client.js is the current build (npm run build:client)", () => {
    const bundle = readFileSync(join(PKG, "dist/index.js"), "utf8");
    const served = readFileSync(join(ROOT, "public/js/tickwire-client.js"), "utf8");
    expect(served.slice(served.indexOf("\n") + 1)).toBe(bundle);
  });
});
