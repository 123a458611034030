/**
 * How many frames Bun's native pub/sub puts in one `sendto` per subscriber: a Bun server with
 * `--subscribers` sockets on one topic publishes N frames in one callback (as a saturated
 * relay's loop turn does, or tickwire's `WRITE_DELAY_MS` window), and `perf stat` counts the
 * server's `sendto` calls. One server process per N; the sends for N frames are the count less
 * the count with no frame (handshakes, the publisher's socket), over the subscribers.
 * What it shows (Bun 1.4.5): a subscriber gets at most 32 frames per send, so one send per
 * subscriber per 32 frames is the floor of any Bun relay's send cost, whatever it coalesces.
 *
 *   bun bench/load/fanout/send-batch.ts [--subscribers 200] [--frames 1,16,32,33,64,100,256] [--bytes 206]
 * Needs `perf` (root, or kernel.perf_event_paranoid ≤ 1). Writes bench/results/send-batch.json, prints a table.
 * @module
 */
import { parseArgs } from "node:util";
import { printTable, writeResult } from "../../support/report.ts";

const { values } = parseArgs({
  options: {
    subscribers: { type: "string", default: "200" },
    frames: { type: "string", default: "1,16,32,33,64,100,256" },
    bytes: { type: "string", default: "206" },
    serve: { type: "string" },
  },
});

if (values.serve !== undefined) {
  // The measured process: publishes `--serve` frames in one callback when the publisher says so.
  const n = Number(values.serve);
  const frame = "x".repeat(Number(values.bytes));
  const server = Bun.serve<{ sub: boolean }>({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req, srv) => (srv.upgrade(req, { data: { sub: new URL(req.url).pathname === "/sub" } }) ? undefined : new Response("", { status: 404 })),
    websocket: {
      backpressureLimit: 16 << 20,
      open(ws) {
        if (ws.data.sub) ws.subscribe("t");
      },
      message(ws, msg) {
        if (msg === "go") for (let i = 0; i < n; i++) server.publish("t", frame);
        if (msg === "stop") process.exit(0);
        ws.send("sent");
      },
    },
  });
  console.log(JSON.stringify({ listening: server.port }));
  await new Promise(() => {});
}

const subscribers = Number(values.subscribers);
const opened = (ws: WebSocket) => new Promise<void>((resolve, reject) => ((ws.onopen = () => resolve()), (ws.onerror = reject)));

/** The server's `sendto` calls for one run publishing `n` frames to every subscriber. */
async function sendtoCount(n: number): Promise<number> {
  const out = `/tmp/send-batch-${process.pid}-${n}.perf`;
  const proc = Bun.spawn(
    [
      "perf",
      "stat",
      "-x,",
      "-o",
      out,
      "-e",
      "syscalls:sys_enter_sendto",
      "--",
      process.execPath,
      import.meta.path,
      "--serve",
      String(n),
      "--bytes",
      values.bytes,
    ],
    {
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
  const port = JSON.parse(text.slice(0, text.indexOf("\n"))).listening as number;
  let received = 0;
  let all: () => void = () => {};
  const done = new Promise<void>((resolve) => (all = resolve));
  const subs = Array.from({ length: subscribers }, () => new WebSocket(`ws://127.0.0.1:${port}/sub`));
  for (const ws of subs) ws.onmessage = () => ++received === subscribers * n && all();
  await Promise.all(subs.map(opened));
  const pub = new WebSocket(`ws://127.0.0.1:${port}/pub`);
  await opened(pub);
  const sent = new Promise((resolve) => (pub.onmessage = resolve));
  pub.send("go");
  await sent;
  if (n > 0) await done;
  pub.send("stop");
  await proc.exited;
  for (const ws of subs) ws.close();
  const line = (await Bun.file(out).text()).split("\n").find((l) => l.includes("sys_enter_sendto"));
  return Number(line?.split(",")[0]);
}

const base = await sendtoCount(0);
const rows: (string | number)[][] = [];
const results: { frames: number; sendsPerSubscriber: number; framesPerSend: number }[] = [];
for (const n of values.frames.split(",").map(Number)) {
  const perSub = ((await sendtoCount(n)) - base) / subscribers;
  results.push({ frames: n, sendsPerSubscriber: perSub, framesPerSend: n / perSub });
  rows.push([n, perSub, n / perSub]);
}
await writeResult("send-batch", {
  benchmark: "send-batch",
  at: new Date().toISOString(),
  bun: Bun.version,
  subscribers,
  bytes: Number(values.bytes),
  baseSendto: base,
  results,
});
printTable(["frames in one callback", "sendto per subscriber", "frames per sendto"], rows);
