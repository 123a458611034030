/**
 * Fanout latency, micro (mitata): the time from one publish until all N WebSocket subscribers
 * have received the frame, for N = 100, 1000 and 10 000, against a bare `Bun.serve` relay in the
 * same `group`/`summary`.
 * - baseline: `server.publish("chat", JSON.stringify(frame))` on a bare Bun server;
 * - tickwire: `hub.append("chat", body)` on the real server (`startInProcess()`, MemoryTopicLog),
 *   whose sockets subscribed natively through `/ws?topics=chat`: log append, tail, one frame
 *   serialization, one `server.publish`.
 * Both servers run in this process; the N subscribers run in a child process
 * (bench/load/fanout-subscribers.ts), which reports over IPC once the Nth socket has the
 * frame. That IPC hop is the same for both variants and measured on its own ("IPC floor").
 * Only one variant's N sockets are connected at a time (10 000 clients + 10 000 server sockets
 * would not fit in one process's 20 000 open files). Each N runs `--rounds` times with the
 * order of the variants swapped each round; the summary reports the median ratio and its spread.
 *
 *   bun bench/load/fanout.bench.ts [--sizes 100,1000,10000] [--rounds 5]
 * Writes bench/results/fanout.bench.json.
 * @module
 */
import { parseArgs } from "node:util";
import { bench, group, run, summary } from "mitata";
import { printTable, writeResult } from "../support/report.ts";
import { startBareRelay } from "./fanout/bare-relay.ts";
import { startInProcess } from "./launcher.ts";

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "100,1000,10000" }, rounds: { type: "string", default: "5" } },
});
const sizes = values.sizes.split(",").map(Number);
const rounds = Number(values.rounds);

// --- the subscriber process -------------------------------------------------------------
const waiters = new Map<number, () => void>();
let onControl: ((msg: Record<string, unknown>) => void) | undefined;
const child = Bun.spawn([process.execPath, `${import.meta.dir}/fanout-subscribers.ts`], {
  stdio: ["inherit", "inherit", "inherit"],
  ipc(msg: Record<string, unknown>) {
    if (typeof msg.done === "number") {
      const w = waiters.get(msg.done);
      if (w) waiters.delete(msg.done), w();
    } else onControl?.(msg);
  },
});
const control = (msg: Record<string, unknown>, key: string) =>
  new Promise<void>((resolve) => {
    onControl = (reply) => {
      if (key in reply) resolve();
    };
    child.send(msg);
  });
await new Promise<void>((resolve) => (onControl = (m) => m.started && resolve()));
const delivered = (k: number) => new Promise<void>((resolve) => waiters.set(k, resolve));

// --- the two servers ----------------------------------------------------------------------
const bare = startBareRelay();
const app = await startInProcess();
const hub = app.ctx.hub;
const wsCount = async () => ((await (await fetch(`${app.url}/health`)).json()) as { connections: { ws: number } }).connections.ws;

/** Waits until the server side agrees on the number of subscribers (connect or close done). */
async function settle(count: () => Promise<number> | number, want: number): Promise<void> {
  for (let i = 0; i < 2000 && (await count()) !== want; i++) await Bun.sleep(5);
}

let k = 0;
const body = (id: number) => ({ type: "message", id: `m${id}`, content: `k${id}@0`, user: "bench", timestamp: new Date().toISOString() });

function variant(name: "bare" | "tickwire", n: number) {
  const url = name === "bare" ? `http://127.0.0.1:${bare.port}` : app.url;
  const count = name === "bare" ? () => bare.subscriberCount("chat") : wsCount;
  const publish =
    name === "bare"
      ? (id: number) => {
          bare.publish("chat", JSON.stringify({ topic: "chat", seq: `${Date.now()}-${id}`, ts: Date.now(), ...body(id) }));
        }
      : (id: number) => {
          void hub.append("chat", body(id));
        };
  return async function* () {
    await control({ connect: url, n }, "ready");
    await settle(count, n);
    yield async () => {
      const id = k++;
      const done = delivered(id);
      publish(id);
      await done;
    };
    await control({ close: true }, "closed");
    await settle(count, 0);
  };
}

for (let r = 0; r < rounds; r++) {
  group(`IPC floor (round ${r + 1}): child echoes at once`, () => {
    bench("IPC round trip", async () => {
      const id = k++;
      const done = delivered(id);
      child.send({ echo: id });
      await done;
    });
  });
  for (const n of sizes) {
    summary(() => {
      group(`fanout to ${n} WS subscribers (round ${r + 1})`, () => {
        const entries = [
          () => bench(`bare relay: server.publish (N=${n})`, variant("bare", n)).baseline(true),
          () => bench(`tickwire: hub.append → publish (N=${n})`, variant("tickwire", n)),
        ];
        // Swap the order each round so neither variant always runs first.
        (r % 2 === 0 ? entries : entries.reverse()).forEach((e) => e());
      });
    });
  }
}

const out = await run({ format: "mitata" });
child.send({ close: true });
child.kill();
bare.stop(true);
await app.stop();

// --- ratios --------------------------------------------------------------------------------
type Stats = { avg: number; p99: number; p50: number; min: number; max: number; samples: number[] };
const stats = new Map<string, Stats[]>();
for (const b of out.benchmarks) {
  const s = b.runs[0]?.stats as Stats | undefined;
  if (!s) continue;
  const list = stats.get(b.alias) ?? [];
  list.push(s);
  stats.set(b.alias, list);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
};
const ms = (ns: number) => ns / 1e6;
const rows = sizes.map((n) => {
  const b = stats.get(`bare relay: server.publish (N=${n})`) ?? [];
  const t = stats.get(`tickwire: hub.append → publish (N=${n})`) ?? [];
  const avgRatios = t.map((s, i) => s.avg / b[i]!.avg);
  const p99Ratios = t.map((s, i) => s.p99 / b[i]!.p99);
  return {
    n,
    bare: { avgMs: b.map((s) => ms(s.avg)), p99Ms: b.map((s) => ms(s.p99)), samples: b.map((s) => s.samples.length) },
    tickwire: { avgMs: t.map((s) => ms(s.avg)), p99Ms: t.map((s) => ms(s.p99)), samples: t.map((s) => s.samples.length) },
    meanRatio: { median: median(avgRatios), perRound: avgRatios },
    /** Spread of the bare relay's own mean across rounds, (max - min) / median: the run's noise. */
    bareMeanNoise: (Math.max(...b.map((s) => s.avg)) - Math.min(...b.map((s) => s.avg))) / median(b.map((s) => s.avg)),
    p99Ratio: { median: median(p99Ratios), perRound: p99Ratios },
    target: n >= 1000 ? 1.1 : undefined,
  };
});
const ipc = (stats.get("IPC round trip") ?? []).map((s) => ms(s.avg));
await writeResult("fanout.bench", { benchmark: "fanout.bench", at: new Date().toISOString(), rounds, ipcFloorAvgMs: ipc, sizes: rows });
console.log();
printTable(
  ["N", "bare mean ms", "tickwire mean ms", "mean ratio (per round)", "bare p99 ms", "tickwire p99 ms", "p99 ratio (per round)", "bare noise", "target"],
  rows.map((r) => [
    r.n,
    median(r.bare.avgMs),
    median(r.tickwire.avgMs),
    `${r.meanRatio.median.toFixed(2)}x (${r.meanRatio.perRound.map((x) => x.toFixed(2)).join(", ")})`,
    median(r.bare.p99Ms),
    median(r.tickwire.p99Ms),
    `${r.p99Ratio.median.toFixed(2)}x (${r.p99Ratio.perRound.map((x) => x.toFixed(2)).join(", ")})`,
    `${(r.bareMeanNoise * 100).toFixed(0)}%`,
    r.target ? `≤ ${r.target}x: ${r.meanRatio.median <= r.target && r.p99Ratio.median <= r.target ? "met" : "MISSED"}` : "",
  ]),
);
console.log(`IPC floor (included in every figure above): ${ipc.map((x) => x.toFixed(3)).join(", ")} ms mean per round`);
console.log(`medians over ${rounds} rounds; p99 at N = 10 000 rests on ~15 samples per round (mitata's time budget), so it is close to the max`);
console.log(
  `load average after the run: ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")} (${navigator.hardwareConcurrency} cores)`,
);
