/**
 * Starts the peer servers, each in its own process like the fanout family's servers, and gives
 * them the same handle ({@link PeerServer}: URL, CPU time from /proc, quiesce, stop):
 * - Socket.IO: `socketio-server.ts` transpiled to JavaScript (imports kept, nothing bundled) into
 *   `node_modules/.cache/tickwire-bench/`, from where `socket.io` resolves as from the repository,
 *   and run with `node` when it is installed, else with Bun (the table says which);
 * - nchan: nginx with a generated config (`nchan.ts`) in a temp directory, on a free port; its CPU
 *   time is the master's plus its worker's.
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processCpuMs as procCpuMs } from "../../support/machine-cpu.ts";
import { freePort, trackChild } from "../launcher.ts";
import { findNchan, nchanConfig } from "./nchan.ts";

export interface PeerServer {
  name: string;
  /** What runs it, e.g. `node v20.20.2`, `nginx/1.22.1 + nchan`. */
  runtime: string;
  url: string;
  /** CPU time (user + system) of the server's processes so far, ms. */
  cpuMs(): Promise<number>;
  /** Resolves once the server has been (nearly) idle for 250 ms, or after `maxMs`. */
  quiesce(maxMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = `${import.meta.dir}/../../..`;

function quiescer(cpuMs: () => Promise<number>) {
  return async (maxMs = 5000) => {
    // A run that fell behind must not leave its backlog to the next one (as fanout/server.ts).
    const until = performance.now() + maxMs;
    while (performance.now() < until) {
      const before = await cpuMs();
      await Bun.sleep(250);
      if ((await cpuMs()) - before <= 25) return;
    }
  };
}

/** Reads JSON lines from a child's stdout until one has `listening`. */
async function listening(stream: ReadableStream<Uint8Array>, what: string): Promise<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    for (let i = buf.indexOf("\n"); i !== -1; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('{"listening":')) return JSON.parse(line);
    }
  }
  throw new Error(`${what} exited before listening`);
}

/** The Socket.IO 4 relay in its own process (Node if installed). */
export async function launchSocketIo(runtime: "node" | "bun" = Bun.which("node") ? "node" : "bun"): Promise<PeerServer> {
  const cache = `${ROOT}/node_modules/.cache/tickwire-bench`;
  mkdirSync(cache, { recursive: true });
  const js = new Bun.Transpiler({ loader: "ts", target: "node" }).transformSync(await Bun.file(`${import.meta.dir}/socketio-server.ts`).text());
  const script = `${cache}/socketio-server.mjs`;
  await Bun.write(script, js);
  const exe = runtime === "node" ? Bun.which("node")! : process.execPath;
  const proc = Bun.spawn([exe, script], { cwd: ROOT, stdout: "pipe", stderr: "inherit", env: { ...process.env, NODE_ENV: "production" } });
  trackChild(proc);
  const ready = await listening(proc.stdout as ReadableStream<Uint8Array>, "socket.io server");
  const version = (await Bun.file(`${ROOT}/node_modules/socket.io/package.json`).json()).version as string;
  const cpuMs = () => procCpuMs(proc.pid);
  return {
    name: "socket.io",
    runtime: `socket.io ${version} on ${ready.runtime}`,
    url: `http://127.0.0.1:${ready.listening}`,
    cpuMs,
    quiesce: quiescer(cpuMs),
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** nginx + nchan on a free port with `worker_processes 1`; throws if either is not installed. */
export async function launchNchan(): Promise<PeerServer> {
  const found = findNchan();
  if ("missing" in found) throw new Error(found.missing);
  const dir = mkdtempSync(join(tmpdir(), "tickwire-nchan-"));
  const port = freePort();
  await Bun.write(`${dir}/nginx.conf`, nchanConfig({ port, dir, modulePath: found.module }));
  const proc = Bun.spawn([found.nginx, "-p", dir, "-c", `${dir}/nginx.conf`], { stdout: "inherit", stderr: "inherit" });
  trackChild(proc);
  const url = `http://127.0.0.1:${port}`;
  let exited: number | null = null;
  void proc.exited.then((code) => (exited = code));
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (exited !== null) throw new Error(`nginx exited with ${exited}: ${await Bun.file(`${dir}/error.log`).text()}`);
    const ok = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (performance.now() > deadline) throw new Error(`nginx did not answer on ${url}/ready in 10 s`);
    // Polling readiness: nginx says nothing on stdout when it is up.
    await Bun.sleep(50);
  }
  const workers = (await Bun.file(`/proc/${proc.pid}/task/${proc.pid}/children`).text()).trim().split(/\s+/).filter(Boolean).map(Number);
  const cpuMs = async () => (await Promise.all([proc.pid, ...workers].map(procCpuMs))).reduce((a, b) => a + b, 0);
  const version = (await new Response(Bun.spawn([found.nginx, "-v"], { stderr: "pipe" }).stderr).text()).trim().replace(/^nginx version: /, "");
  return {
    name: "nchan",
    runtime: `${version} + nchan, ${workers.length} worker process`,
    url,
    cpuMs,
    quiesce: quiescer(cpuMs),
    async stop() {
      // SIGQUIT would wait for the open subscribers; SIGTERM is nginx's fast shutdown.
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
