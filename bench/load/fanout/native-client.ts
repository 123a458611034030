/**
 * The subscribers in C (`native-subscribers.c`, `--client native`): compiled on first use with
 * the machine's `cc` into the temp directory (keyed by the source's hash), spawned for one load,
 * and read back into the same receipts the JavaScript subscribers fill (client.ts), so every
 * benchmark computes its figures the same way whichever client ran.
 *
 * The publisher stays the bench process's WebSocket; its stamps are put on the C process's
 * `CLOCK_MONOTONIC` by a calibration (the `clock` round trip with the smallest delay), so a
 * latency is still one clock's difference, to within half that round trip (≈ 0.05 ms).
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";

const SOURCE = `${import.meta.dir}/native-subscribers.c`;

/** Compiles the C subscribers if needed; returns the binary's path, or why there is none. */
export async function nativeSubscribersBinary(): Promise<{ path: string } | { missing: string }> {
  const cc = Bun.which("cc") ?? Bun.which("gcc");
  if (!cc) return { missing: "no C compiler (cc) on PATH (Debian: apt-get install gcc)" };
  const hash = createHash("sha256")
    .update(await Bun.file(SOURCE).text())
    .digest("hex")
    .slice(0, 12);
  const path = `${tmpdir()}/tickwire-native-subscribers-${hash}`;
  if (existsSync(path)) return { path };
  const build = Bun.spawnSync([cc, "-O2", "-Wall", "-o", path, SOURCE], { stderr: "pipe" });
  if (build.exitCode !== 0) return { missing: `cc failed: ${build.stderr.toString().trim()}` };
  return { path };
}

/**
 * The client a benchmark's `--client` asks for: `auto` (default) is `native` where a C compiler
 * is found, else `js` with a note saying why.
 */
export async function chooseClient(flag: string): Promise<{ client: "js" | "native"; note?: string }> {
  if (flag !== "auto" && flag !== "js" && flag !== "native") throw new Error(`--client: use auto, js or native (not ${flag})`);
  if (flag === "js") return { client: "js" };
  const binary = await nativeSubscribersBinary();
  if ("path" in binary) return { client: "native" };
  if (flag === "native") throw new Error(`--client native: ${binary.missing}`);
  return { client: "js", note: `subscribers in JavaScript (client.ts), not C: ${binary.missing}; on 2 cores they, not the server, set the capacity found` };
}

export interface NativeResults {
  received: number;
  disorder: number;
  latencies: Float64Array;
  counts: Int32Array;
  last: Float64Array;
  sendAt: Float64Array;
  cpuMs: number;
}

export interface NativeSubscribers {
  /** Add to `performance.now()` to get the C process's clock (ms). */
  offset: number;
  /** The publishing starts: the C process counts its CPU from here. */
  go(): void;
  /** Resolves when every measured delivery has arrived, or after `ms`. */
  done(ms: number): Promise<void>;
  stop(): Promise<NativeResults>;
  pid: number;
}

/** Opens `count` subscribers in a C process (compiled first if needed); resolves once all are subscribed. */
export async function openNative(o: {
  url: string;
  transport: "ws" | "sse";
  count: number;
  warmup: number;
  measured: number;
  wsPath?: string;
}): Promise<NativeSubscribers> {
  const built = await nativeSubscribersBinary();
  if ("missing" in built) throw new Error(`--client native: ${built.missing}`);
  const binary = built.path;
  const { hostname, port } = new URL(o.url);
  const out = `${tmpdir()}/tickwire-native-${process.pid}-${Date.now()}.bin`;
  const args = [binary, hostname, port, o.transport, String(o.count), String(o.warmup), String(o.measured), out];
  if (o.wsPath) args.push(o.wsPath);
  const proc = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = readLines(proc.stdout);
  const next = async (what: string) => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`native subscribers exited (code ${await proc.exited}) before "${what}"`);
    return value;
  };
  if ((await next("ready")) !== "ready") throw new Error("native subscribers: unexpected output before ready");
  const send = (cmd: string) => {
    proc.stdin.write(`${cmd}\n`);
    proc.stdin.flush();
  };
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    send("clock");
    const line = await next("clock");
    const t1 = performance.now();
    const theirs = Number(line.split(" ")[1]);
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: theirs - (t0 + t1) / 2 };
  }
  const doneLine = next("done");
  doneLine.catch(() => {}); // an early exit is reported by done() and stop()
  return {
    offset: best.offset,
    pid: proc.pid,
    go: () => send("go"),
    async done(ms) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([doneLine, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
    },
    async stop() {
      send("stop");
      await proc.exited; // the results file is written before it exits
      if (proc.exitCode !== 0) throw new Error(`native subscribers exited with ${proc.exitCode}`);
      const bytes = await Bun.file(out).arrayBuffer();
      await Bun.file(out).delete();
      const head = new DataView(bytes);
      const [received, disorder, n] = [head.getInt32(0, true), head.getInt32(4, true), head.getInt32(8, true)];
      const cpuMs = head.getFloat64(12, true);
      const ids = o.warmup + o.measured;
      let at = 20;
      const take = <T>(make: (b: ArrayBuffer) => T, bytesEach: number, len: number) => {
        const v = make(bytes.slice(at, at + bytesEach * len));
        at += bytesEach * len;
        return v;
      };
      return {
        received,
        disorder,
        cpuMs,
        latencies: take((b) => new Float64Array(b), 8, n),
        counts: take((b) => new Int32Array(b), 4, ids),
        last: take((b) => new Float64Array(b), 8, ids),
        sendAt: take((b) => new Float64Array(b), 8, ids),
      };
    },
  };
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}
