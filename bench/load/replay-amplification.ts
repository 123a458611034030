/**
 * Replay amplification: the attack of issue #16. The lowest-privilege token, a customer's
 * (`subscribe: ["session:X"]`, nothing else), re-subscribes to its session with `since:"0-0"`
 * over and over; every one of those replays reads the whole `timers` log (`session:X` is derived
 * from it), so without limits each would be a full Redis read. Meanwhile the other clients'
 * `/health` and chat latency are measured, without and with the attacker, on the attacked
 * instance and on a second instance on the same Redis.
 *
 * Setup: two tickwire children (A, attacked, and B), Redis mode on the machine's Redis with one
 * unique `STREAM_PREFIX` (deleted at the end), `JWT_SECRET` set, default replay limits
 * (`REPLAY_RATE` 10/s, `REPLAY_BURST` 20, `REPLAY_MAX_CONCURRENT` 256), default
 * `HISTORY_SIZE` 1000. The `timers` history is pre-filled through the REST API on A with an
 * operator token: `--timers` timers in session X, then pause / resume until `--timer-changes`
 * changes (all timers end paused: no ticks). That makes more entries than the window holds,
 * so a replay from `0-0` cannot be served from memory: it is a Redis read (the worst case).
 *
 * Phases of `--seconds` each, in order: `quiet-1`, `attack` (the attacker on `--sockets`
 * persistent sockets), `quiet-2`, `attack-reconnect` (the same, but a socket told `rate_limited`
 * closes and reconnects at once, with a fresh per-connection allowance). Throughout:
 * - `/health` on A and B every 20 ms (each request on its own schedule, not after the previous
 *   one: a slow answer does not hide the next ones); p50 / p99 / max per phase.
 * - chat: `--chat-rate` messages/s `POST /messages` to A and to B, each delivered to
 *   `--chat-clients` SSE readers (`/events`, raw TCP) on the same instance; latency = arrival
 *   - the stamp taken just before the POST, this process's clock on both ends.
 * - The attacker, on A, in a child process (replay-attacker.ts, raw-TCP WebSockets, so that what
 *   it receives costs little and does not slow this process's probes): each socket sends
 *   `unsubscribe` + `subscribe` (`session:X`, `since:"0-0"`) pairs as fast as A answers: the
 *   next pair as soon as the subscribe was refused (`rate_limited`, `replay_busy`) or its replay
 *   has arrived in full (closed loop, so it also takes every frame it asked for). Bounded by the
 *   phase's time and `--max-pairs` per socket. (`--max-pairs 2000 --sockets 1` is the issue's
 *   literal 2000 pairs, which take about a second; the default keeps going for the whole phase.)
 * - Per phase, the deltas of A's and B's `/metrics` (replay reads by source, refusals by
 *   reason), Redis's `INFO` (bytes sent, commands, CPU) and CPU cores busy: the servers
 *   (`/proc/<pid>/stat`), this process (the probes), the attacker, redis-server. Redis bytes
 *   per served replay and per Redis read are the phase's bytes over the quiet phases' rate.
 *
 * Targets: `/health` p99 < 50 ms during the attack; chat p99 attack / quiet ≤ 1.5x (quiet =
 * both quiet phases pooled; their own p99 ratio, quiet-2 / quiet-1, is the noise).
 *
 *   bun bench/load/replay-amplification.ts [--seconds 12] [--sockets 4] [--max-pairs 50000]
 *     [--timers 20] [--timer-changes 1200] [--chat-rate 20] [--chat-clients 20] [--topic session:X|timers]
 * `--topic timers` runs the attacker with a token that may subscribe to `timers` itself (a game
 * master's read permission) instead of the customer's.
 * Writes bench/results/replay-amplification.json and prints tables.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { mintToken } from "../../src/auth/tokens.ts";
import { percentile, printTable, writeResult } from "../support/report.ts";
import { launchTickwire, REDIS_URL, trackChild, uniquePrefix } from "./launcher.ts";
import type { AttackStats } from "./replay-attacker.ts";
import { counterDelta, deleteKeys, fmt, inParallel, openWebSocket, type ReplayCounters, redisClient, replayCounters, streamInfo } from "./replay-tools.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "12" },
    sockets: { type: "string", default: "4" },
    "max-pairs": { type: "string", default: "50000" },
    timers: { type: "string", default: "20" },
    "timer-changes": { type: "string", default: "1200" },
    "chat-rate": { type: "string", default: "20" },
    "chat-clients": { type: "string", default: "20" },
    topic: { type: "string", default: "session:X" },
  },
});
const seconds = Number(values.seconds);
const sockets = Number(values.sockets);
const maxPairs = Number(values["max-pairs"]);
const timerCount = Number(values.timers);
const timerChanges = Number(values["timer-changes"]);
const chatRate = Number(values["chat-rate"]);
const chatClients = Number(values["chat-clients"]);
const attackTopic = values.topic;
const SESSION = "X";
const HEALTH_EVERY_MS = 20;
const SECRET = `bench-secret-${Math.random().toString(36).slice(2)}`;

type PhaseName = "quiet-1" | "attack" | "quiet-2" | "attack-reconnect";
const PHASES: PhaseName[] = ["quiet-1", "attack", "quiet-2", "attack-reconnect"];
/** The phase a probe started in (`undefined` between phases: not counted). */
let phase: PhaseName | undefined;

// --- servers, Redis, tokens ------------------------------------------------------------------

const prefix = uniquePrefix("bench-replay-amp");
const redis = await redisClient(REDIS_URL, `${prefix}-bench`);
// All timers are in one session: room for `--timers` of them (TIMERS_PER_SESSION defaults to 100).
const env = {
  REDIS_URL,
  STREAM_PREFIX: prefix,
  JWT_SECRET: SECRET,
  LOG_LEVEL: "warn",
  SSE_PING_MS: "300000",
  TIMERS_PER_SESSION: String(Math.max(100, timerCount)),
};
const servers: Awaited<ReturnType<typeof launchTickwire>>[] = [];
const cleanups: (() => void)[] = [];

/** CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

async function redisInfo(): Promise<{ bytes: number; commands: number; cpu: number }> {
  const text = await redis.sendCommand<string>(["INFO", "stats", "cpu"]);
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1] ?? NaN);
  return { bytes: field("total_net_output_bytes"), commands: field("total_commands_processed"), cpu: field("used_cpu_user") + field("used_cpu_sys") };
}

try {
  servers.push(await launchTickwire(env), await launchTickwire(env));
  const [A, B] = servers as [(typeof servers)[0], (typeof servers)[0]];
  const operator = await mintToken(SECRET, { sub: "bench-operator", publish: ["*"], subscribe: ["*"], expiresIn: "1h" });
  const attackerToken = await mintToken(SECRET, {
    sub: "customer-X",
    subscribe: attackTopic === "timers" ? ["timers"] : [`session:${SESSION}`],
    expiresIn: "1h",
  });
  const auth = { Authorization: `Bearer ${operator}` };

  // --- timers history ------------------------------------------------------------------------
  console.error(`pre-filling timers: ${timerCount} timers in session ${SESSION}, ${timerChanges} changes...`);
  const ids: number[] = [];
  for (let i = 0; i < timerCount; i++) {
    const res = await fetch(`${A.url}/timer`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ sessionId: SESSION, maxTime: 3600 }),
    });
    if (res.status !== 201) throw new Error(`POST /timer: ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { id: number }).id);
  }
  // Per timer an odd number of changes (pause first): every timer ends paused.
  const perTimer = Math.ceil(timerChanges / timerCount) | 1;
  await inParallel(ids.length, 8, async (i) => {
    for (let c = 0; c < perTimer; c++) {
      const res = await fetch(`${A.url}/timer/${ids[i]}/${c % 2 === 0 ? "pause" : "resume"}`, { method: "PUT", headers: auth });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`timer change: ${res.status}`);
    }
  });
  const expectedEntries = timerCount * (1 + perTimer);
  const timersKey = `${prefix}:timers`;
  const filledBy = performance.now() + 30_000;
  // The outbox publishes after each commit: wait (bounded) until every event is in the stream.
  while ((await streamInfo(redis, timersKey).catch(() => ({ added: 0 }))).added < expectedEntries && performance.now() < filledBy) await Bun.sleep(50);
  const tInfo = await streamInfo(redis, timersKey);
  if (tInfo.added < expectedEntries) throw new Error(`timers stream: ${tInfo.added} of ${expectedEntries} events after 30 s`);
  // The newest entry a replay from 0-0 sends: the last of the bounded read (history-read.ts: COUNT history + 128).
  const bounded = await redis.sendCommand<[string, unknown][]>(["XRANGE", timersKey, "(0-0", "+", "COUNT", String(1000 + 128)]);
  const replayLast = bounded.at(-1)![0];
  const replayEntries = bounded.length;
  console.error(`timers stream: ${tInfo.length} retained of ${tInfo.added} added; a replay from 0-0 sends ${replayEntries} entries`);

  // --- probes: health ------------------------------------------------------------------------
  type Sample = { phase: PhaseName; ms: number };
  const health: Record<"A" | "B", { samples: Sample[]; failures: Record<string, number> }> = {
    A: { samples: [], failures: {} },
    B: { samples: [], failures: {} },
  };
  let probing = true;
  const healthLoop = async (name: "A" | "B", url: string) => {
    const start = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let k = 0; probing && k < 100_000; k++) {
      const due = start + k * HEALTH_EVERY_MS;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait); // pacing the probe, not waiting for a condition
      const p = phase;
      const t0 = performance.now();
      const req = fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) }).then(
        async (res) => {
          await res.arrayBuffer();
          if (!p) return;
          if (res.status === 200) health[name].samples.push({ phase: p, ms: performance.now() - t0 });
          else health[name].failures[`${p} ${res.status}`] = (health[name].failures[`${p} ${res.status}`] ?? 0) + 1;
        },
        () => {
          if (p) health[name].failures[`${p} error`] = (health[name].failures[`${p} error`] ?? 0) + 1;
        },
      );
      inFlight.add(req);
      void req.finally(() => inFlight.delete(req));
    }
    await Promise.all(inFlight);
  };

  // --- probes: chat over SSE -----------------------------------------------------------------
  const chat: Record<"A" | "B", { samples: Sample[]; sent: Map<number, PhaseName>; postErrors: number; expectedPerPhase: Map<PhaseName, number> }> = {
    A: { samples: [], sent: new Map(), postErrors: 0, expectedPerPhase: new Map() },
    B: { samples: [], sent: new Map(), postErrors: 0, expectedPerPhase: new Map() },
  };
  const MARK = '"content":"';
  const openReader = async (name: "A" | "B", url: string, i: number) => {
    const { hostname, port } = new URL(url);
    const own = name.toLowerCase();
    let pending = "";
    let ready!: () => void;
    const connected = new Promise<void>((r) => (ready = r));
    const socket = await Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        data(_s, chunk) {
          const now = performance.now();
          const s = pending + chunk.toString("latin1");
          if (s.includes(": connected")) ready();
          let from = 0;
          for (;;) {
            const k = s.indexOf(MARK, from);
            if (k < 0) {
              from = Math.max(from, s.length - MARK.length);
              break;
            }
            const end = s.indexOf('"', k + MARK.length);
            if (end < 0) {
              from = k;
              break;
            }
            const content = s.slice(k + MARK.length, end);
            // `a<id>@<stamp>`: only the messages posted to this reader's instance are its probe.
            if (content.startsWith(own)) {
              const at = content.indexOf("@");
              const id = Number(content.slice(1, at));
              const p = chat[name].sent.get(id);
              if (p) chat[name].samples.push({ phase: p, ms: now - Number(content.slice(at + 1)) });
            }
            from = end;
          }
          pending = s.slice(from);
        },
      },
    });
    socket.write(
      `GET /events?topics=chat&client_id=bench-${name}-${i} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${operator}\r\n\r\n`,
    );
    cleanups.push(() => socket.end());
    await connected;
  };
  for (const [name, s] of [
    ["A", A],
    ["B", B],
  ] as const) {
    for (let i = 0; i < chatClients; i++) await openReader(name, s.url, i);
  }
  const chatLoop = async (name: "A" | "B", url: string) => {
    const start = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let k = 0; probing && k < 100_000; k++) {
      const wait = start + (k * 1000) / chatRate - performance.now();
      if (wait > 0) await Bun.sleep(wait); // pacing the sender
      const p = phase;
      if (p) {
        chat[name].sent.set(k, p);
        chat[name].expectedPerPhase.set(p, (chat[name].expectedPerPhase.get(p) ?? 0) + chatClients);
      }
      const stamp = performance.now();
      const req = fetch(`${url}/messages`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: `{"content":"${name.toLowerCase()}${k}@${stamp.toFixed(3)}","user":"bench"}`,
        signal: AbortSignal.timeout(5000),
      }).then(
        async (res) => {
          await res.arrayBuffer();
          if (res.status !== 201) chat[name].postErrors++;
        },
        () => void chat[name].postErrors++,
      );
      inFlight.add(req);
      void req.finally(() => inFlight.delete(req));
    }
    await Promise.all(inFlight);
  };

  // --- the attacker (a child process: replay-attacker.ts) ------------------------------------
  const attackUrl = `${A.url.replace("http", "ws")}/ws?topics=&token=${attackerToken}`;
  async function attack(deadlineMs: number, reconnect: boolean): Promise<{ stats: AttackStats; cpuSeconds: number }> {
    const config = { url: A.url, token: attackerToken, topic: attackTopic, since: "0-0", last: replayLast, sockets, maxPairs, deadline: deadlineMs, reconnect };
    const proc = Bun.spawn([process.execPath, `${import.meta.dir}/replay-attacker.ts`, JSON.stringify(config)], { stdout: "pipe", stderr: "inherit" });
    trackChild(proc);
    const out = await new Response(proc.stdout).text();
    const code = await proc.exited;
    if (code !== 0) throw new Error(`attacker exited with ${code}: ${out}`);
    const usage = proc.resourceUsage();
    const cpu = usage ? (Number(usage.cpuTime.user) + Number(usage.cpuTime.system)) / 1e6 : NaN;
    return { stats: JSON.parse(out.trim().split("\n").at(-1)!) as AttackStats, cpuSeconds: cpu };
  }

  /** The token may not read `timers` itself (customer): checked once, reported. */
  async function forbiddenCheck(): Promise<string> {
    if (attackTopic === "timers") return "n/a (timers token)";
    const ws = await openWebSocket(attackUrl);
    const answer = new Promise<string>((resolve) => {
      ws.onmessage = (ev) => {
        const msg = JSON.parse(String(ev.data)) as { op: string; code?: string };
        if (msg.op === "error") resolve(msg.code ?? "error");
        else if (msg.op === "ack") setTimeout(() => resolve("allowed"), 200);
      };
    });
    ws.send(JSON.stringify({ op: "subscribe", topic: "timers", since: "0-0" }));
    const code = await Promise.race([answer, Bun.sleep(2000).then(() => "no answer")]);
    ws.close();
    return code;
  }
  const forbidden = await forbiddenCheck();
  console.error(`customer token subscribing to timers: ${forbidden}`);

  // --- the phases ----------------------------------------------------------------------------
  interface PhaseResult {
    name: PhaseName;
    ms: number;
    attack: AttackStats | undefined;
    metrics: Record<"A" | "B", ReplayCounters>;
    redis: { bytes: number; commands: number; cpuSeconds: number };
    /** CPU cores busy: the two servers, this process (probes), the attacker, redis-server. */
    cpuCores: Record<"A" | "B" | "bench" | "attacker" | "redis", number>;
  }
  const results: PhaseResult[] = [];
  const loops = [healthLoop("A", A.url), healthLoop("B", B.url), chatLoop("A", A.url), chatLoop("B", B.url)];
  await Bun.sleep(1000); // warm-up of the probes, not counted
  for (const name of PHASES) {
    const attacking = name.startsWith("attack");
    console.error(`${name}: ${seconds} s${attacking ? `, attacker on ${sockets} sockets (${attackTopic}, since 0-0)` : ""}...`);
    const m0 = { A: await replayCounters(A.url), B: await replayCounters(B.url) };
    const r0 = await redisInfo();
    const cpu0 = { A: cpuSeconds(A.pid), B: cpuSeconds(B.pid) };
    const t0 = performance.now();
    phase = name;
    const deadline = t0 + seconds * 1000;
    const bench0 = process.cpuUsage();
    let stats: AttackStats | undefined;
    let attackerCpu = 0;
    if (attacking) {
      const done = await attack(Date.now() + (deadline - performance.now()), name === "attack-reconnect");
      stats = done.stats;
      attackerCpu = done.cpuSeconds;
    }
    const left = deadline - performance.now();
    if (left > 0) await Bun.sleep(left); // the phase lasts its time whether or not the attacker stopped early
    phase = undefined;
    const ms = performance.now() - t0;
    const r1 = await redisInfo();
    const cpu1 = { A: cpuSeconds(A.pid), B: cpuSeconds(B.pid) };
    const bench1 = process.cpuUsage(bench0);
    const m1 = { A: await replayCounters(A.url), B: await replayCounters(B.url) };
    results.push({
      name,
      ms,
      attack: stats,
      metrics: { A: counterDelta(m0.A, m1.A), B: counterDelta(m0.B, m1.B) },
      redis: { bytes: r1.bytes - r0.bytes, commands: r1.commands - r0.commands, cpuSeconds: r1.cpu - r0.cpu },
      cpuCores: {
        A: (cpu1.A - cpu0.A) / (ms / 1000),
        B: (cpu1.B - cpu0.B) / (ms / 1000),
        bench: (bench1.user + bench1.system) / 1e6 / (ms / 1000),
        attacker: attackerCpu / (ms / 1000),
        redis: (r1.cpu - r0.cpu) / (ms / 1000),
      },
    });
    // Deliveries of the phase's last messages still in flight: let them land before the next phase.
    await Bun.sleep(1000);
  }
  probing = false;
  await Promise.all(loops);
  // Stragglers: bounded wait for the last chat deliveries.
  await Bun.sleep(500);

  // --- report --------------------------------------------------------------------------------
  const stat = (samples: Sample[], p: PhaseName | PhaseName[]) => {
    const ps = Array.isArray(p) ? p : [p];
    const xs = samples
      .filter((s) => ps.includes(s.phase))
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    return { n: xs.length, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: xs.at(-1) ?? NaN };
  };
  const quiet: PhaseName[] = ["quiet-1", "quiet-2"];
  const perPhase = results.map((r) => {
    const quietRedis = results.filter((q) => quiet.includes(q.name));
    const quietBytesPerMs = quietRedis.reduce((n, q) => n + q.redis.bytes, 0) / quietRedis.reduce((n, q) => n + q.ms, 0);
    const quietCommandsPerMs = quietRedis.reduce((n, q) => n + q.redis.commands, 0) / quietRedis.reduce((n, q) => n + q.ms, 0);
    const extraBytes = r.redis.bytes - quietBytesPerMs * r.ms;
    const extraCommands = r.redis.commands - quietCommandsPerMs * r.ms;
    const served = r.attack?.served ?? 0;
    const chatA = stat(chat.A.samples, r.name);
    const chatB = stat(chat.B.samples, r.name);
    const quietA = stat(chat.A.samples, quiet);
    const quietB = stat(chat.B.samples, quiet);
    return {
      ...r,
      health: { A: stat(health.A.samples, r.name), B: stat(health.B.samples, r.name) },
      chat: {
        A: { ...chatA, expected: chat.A.expectedPerPhase.get(r.name) ?? 0, p99VsQuiet: chatA.p99 / quietA.p99 },
        B: { ...chatB, expected: chat.B.expectedPerPhase.get(r.name) ?? 0, p99VsQuiet: chatB.p99 / quietB.p99 },
      },
      redisOverQuiet: { bytes: extraBytes, commands: extraCommands },
      redisBytesPerServedReplay: served > 0 ? extraBytes / served : NaN,
      redisBytesPerRedisRead: r.metrics.A.redis > 0 ? extraBytes / r.metrics.A.redis : NaN,
    };
  });
  const quietNoise = {
    A: stat(chat.A.samples, "quiet-2").p99 / stat(chat.A.samples, "quiet-1").p99,
    B: stat(chat.B.samples, "quiet-2").p99 / stat(chat.B.samples, "quiet-1").p99,
  };
  const result = {
    benchmark: "replay-amplification",
    at: new Date().toISOString(),
    command: `bun bench/load/replay-amplification.ts ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { cpus: navigator.hardwareConcurrency, bun: Bun.version, loadavg: loadavg().map((l) => +l.toFixed(2)) },
    options: { seconds, sockets, maxPairs, timers: timerCount, timerChanges: timerCount * perTimer, chatRate, chatClients, attackTopic },
    limits: { replayRate: 10, replayBurst: 20, replayMaxConcurrent: 256, historySize: 1000, note: "tickwire defaults" },
    timersStream: { retained: tInfo.length, added: tInfo.added, replayEntries },
    customerSubscribingToTimers: forbidden,
    healthFailures: { A: health.A.failures, B: health.B.failures },
    chatPostErrors: { A: chat.A.postErrors, B: chat.B.postErrors },
    quietNoise,
    phases: perPhase,
  };

  console.log("\nlatency of the other clients (A = attacked instance, B = second instance on the same Redis)");
  printTable(
    [
      "phase",
      "health A p50/p99/max ms",
      "health B p50/p99/max ms",
      "chat A p50/p99 ms",
      "chat A p99 vs quiet",
      "chat B p50/p99 ms",
      "chat B p99 vs quiet",
      "chat delivered A/B",
      "CPU cores A / B / probes / attacker / redis",
    ],
    perPhase.map((p) => [
      p.name,
      `${fmt.num(p.health.A.p50)} / ${fmt.num(p.health.A.p99)} / ${fmt.num(p.health.A.max)}`,
      `${fmt.num(p.health.B.p50)} / ${fmt.num(p.health.B.p99)} / ${fmt.num(p.health.B.max)}`,
      `${fmt.num(p.chat.A.p50)} / ${fmt.num(p.chat.A.p99)}`,
      fmt.ratio(p.chat.A.p99VsQuiet),
      `${fmt.num(p.chat.B.p50)} / ${fmt.num(p.chat.B.p99)}`,
      fmt.ratio(p.chat.B.p99VsQuiet),
      `${p.chat.A.n}/${p.chat.A.expected}, ${p.chat.B.n}/${p.chat.B.expected}`,
      [p.cpuCores.A, p.cpuCores.B, p.cpuCores.bench, p.cpuCores.attacker, p.cpuCores.redis].map((c) => fmt.num(c)).join(" / "),
    ]),
  );
  console.log("\nthe attack (on A), per phase");
  printTable(
    [
      "phase",
      "pairs sent",
      "served replays",
      "refused rate_limited / replay_busy (metrics)",
      "reconnects",
      "stuck / closed by server",
      "MB to attacker",
      "redis reads A (memory)",
      "redis MB sent (over quiet)",
      "redis bytes/served replay",
      "redis bytes/read",
    ],
    perPhase.map((p) => [
      p.name,
      p.attack ? fmt.int(p.attack.pairs) : "",
      p.attack ? fmt.int(p.attack.served) : "",
      `${fmt.int(p.metrics.A.rateLimited)} / ${fmt.int(p.metrics.A.busy)}`,
      p.attack ? fmt.int(p.attack.reconnects) : "",
      p.attack ? `${p.attack.stuck} / ${p.attack.closedByServer}` : "",
      p.attack ? fmt.num(p.attack.bytes / 1e6, 1) : "",
      `${fmt.int(p.metrics.A.redis)} (${fmt.int(p.metrics.A.memory)})`,
      `${fmt.num(p.redis.bytes / 1e6, 1)} (${fmt.num(p.redisOverQuiet.bytes / 1e6, 1)})`,
      fmt.bytes(p.redisBytesPerServedReplay),
      fmt.bytes(p.redisBytesPerRedisRead),
    ]),
  );
  const attackPhases = perPhase.filter((p) => p.name.startsWith("attack"));
  console.log(
    "\ntargets (health: absolute; chat ratio: met below 1.5x / noise, MISSED above 1.5x × noise, noise = the quiet phases' p99 ratio or its inverse)",
  );
  const verdicts: Record<string, Record<"A" | "B", { health: string; chat: string }>> = {};
  for (const p of attackPhases) {
    const v = (name: "A" | "B") => {
      const n = Math.max(quietNoise[name], 1 / quietNoise[name]);
      const r = p.chat[name].p99VsQuiet;
      return { health: p.health[name].p99 < 50 ? "met" : "MISSED", chat: r <= 1.5 / n ? "met" : r > 1.5 * n ? "MISSED" : "within noise" };
    };
    verdicts[p.name] = { A: v("A"), B: v("B") };
    console.log(
      `${p.name}: /health p99 < 50 ms: A ${fmt.num(p.health.A.p99)} ms ${verdicts[p.name]!.A.health}, B ${fmt.num(p.health.B.p99)} ms ${verdicts[p.name]!.B.health}; ` +
        `chat p99 attack/quiet ≤ 1.5x: A ${fmt.ratio(p.chat.A.p99VsQuiet)} ${verdicts[p.name]!.A.chat}, B ${fmt.ratio(p.chat.B.p99VsQuiet)} ${verdicts[p.name]!.B.chat}`,
    );
  }
  console.log(
    `quiet noise (chat p99 quiet-2 / quiet-1): A ${fmt.ratio(quietNoise.A)}, B ${fmt.ratio(quietNoise.B)}; customer token subscribing to timers: ${forbidden}; ` +
      `timers stream ${tInfo.length} retained of ${tInfo.added}, ${replayEntries} entries per replay from 0-0; ` +
      `health failures A ${JSON.stringify(health.A.failures)} B ${JSON.stringify(health.B.failures)}; chat POST errors A ${chat.A.postErrors} B ${chat.B.postErrors}`,
  );
  const path = await writeResult("replay-amplification", { ...result, verdicts });
  console.log(`written to ${path}`);
} finally {
  for (const c of cleanups) c();
  for (const s of servers) await s.stop();
  const deleted = await deleteKeys(redis, prefix);
  console.error(`deleted ${deleted} redis keys under ${prefix}`);
  redis.destroy();
}
