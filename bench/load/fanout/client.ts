/**
 * The load generator: N subscribers (WebSocket or SSE) and one WebSocket publisher, in this
 * process, against a server in another. Each message carries its send time
 * (`{"op":"publish","topic":"chat","data":{"content":"k<id>@<performance.now()>"}}`); because the
 * publisher and the subscribers share this process's monotonic clock, a delivery's latency is
 * its receive time minus that stamp, with no cross-process clock error.
 *
 * The bare relay publishes that op text verbatim; tickwire turns it into a chat frame whose
 * `content` is the same string, so every variant is parsed by the same few `indexOf` calls and
 * the client's own cost is identical across variants.
 * @module
 */

import { openNative } from "./native-client.ts";

/** `ws`: raw-TCP WebSocket reader (default); `ws-bun`: Bun's `WebSocket` client; `sse`: `/events`. */
export type Transport = "ws" | "ws-bun" | "sse";

/** What a {@link Dialect} does with a text frame from the server that is not (only) a message. */
export interface Control {
  /** A text frame to send back (e.g. engine.io's pong `3` to its ping `2`). */
  reply?: string;
  /** The connection is now subscribed (e.g. Socket.IO's namespace connect ack). */
  ready?: boolean;
  /** The server refused: the connection fails with this text. */
  error?: string;
}

/**
 * How a server other than tickwire and the bare relay is spoken to (the peers benchmark,
 * bench/load/peers/): paths, the publisher's frame, and a handshake over text frames. Every
 * field is optional; the default is tickwire's protocol, which the bare relay also speaks.
 */
export interface Dialect {
  /** Path and query a WS subscriber upgrades on (default `/ws?topics=chat`). */
  wsPath?: string;
  /** Path and query of subscriber `i`'s SSE request (default `/events?topics=chat&client_id=bench-<i>`). */
  ssePath?: (i: number) => string;
  /** Path and query the publisher's WebSocket opens (default `/ws?topics=`). */
  publishPath?: string;
  /** The publisher's text frame carrying `content` (`k<id>@<ms>`; default tickwire's publish op). */
  publishFrame?: (content: string) => string;
  /**
   * Looks at every text frame a WS subscriber or the publisher receives (before the message scan);
   * when given, a connection counts as subscribed only once it returns `ready`.
   */
  control?: (text: string) => Control | undefined;
}

const tickwireFrame = (content: string) => `{"op":"publish","topic":"chat","data":{"content":"${content}"}}`;

export interface LoadOptions {
  /** Server base URL, `http://127.0.0.1:<port>`. */
  url: string;
  transport: Transport;
  subscribers: number;
  /** Messages per second from the one publisher. */
  rate: number;
  /** Measured seconds (after the warm-up). */
  seconds: number;
  /** Seconds of messages sent first and not counted (JIT, socket buffers, Redis connection). */
  warmupSeconds: number;
  /** How long to wait after the last send for stragglers before counting them lost. */
  drainMs: number;
  /** Connections opened at once while connecting. */
  connectConcurrency?: number;
  /** The server's CPU time so far (ms); sampled around the publishing phase when given. */
  serverCpuMs?: () => Promise<number>;
  /** Another server's protocol (default tickwire's). `ws-bun` honours only its `wsPath`. */
  dialect?: Dialect;
  /**
   * Who subscribes: `js` (default) this process's readers; `native` the C subscribers
   * (native-client.ts, `ws` and `sse` only, no dialect `control`), which cost far less CPU per
   * delivery, so that on a small machine the server and not the client sets the figures.
   */
  client?: "js" | "native";
}

export interface LoadResult {
  transport: Transport;
  subscribers: number;
  rate: number;
  messages: number;
  expectedDeliveries: number;
  deliveries: number;
  lost: number;
  duplicatesOrReordered: number;
  publishErrors: number;
  deliveredPerSecond: number;
  /** Per-delivery latency, ms, ascending. */
  latencies: Float64Array;
  /** Per message: time until its last subscriber received it, ms, ascending (complete messages only). */
  completions: Float64Array;
  connectMs: number;
  /** Server CPU time from the first send until the drain ended (connecting excluded), ms. */
  serverCpuMs?: number;
  /** This (client) process's CPU time over the same phase, ms: publisher and every subscriber. */
  clientCpuMs: number;
  /** Wall time of that phase (warm-up, measured seconds, drain), ms: CPU ms / phase ms = cores busy. */
  phaseMs: number;
}

const MARK = '"content":"k';

/** One connected subscriber set plus the bookkeeping of what it received. */
class Receipts {
  latencies: Float64Array;
  n = 0;
  counts: Int32Array;
  last: Float64Array;
  sendAt: Float64Array;
  lastSeen: Int32Array;
  disorder = 0;
  received = 0;

  constructor(
    readonly warmup: number,
    readonly measured: number,
    subscribers: number,
  ) {
    this.latencies = new Float64Array(measured * subscribers);
    this.counts = new Int32Array(warmup + measured);
    this.last = new Float64Array(warmup + measured);
    this.sendAt = new Float64Array(warmup + measured);
    this.lastSeen = new Int32Array(subscribers).fill(-1);
  }

  /** Records the marker found at `start` (just after MARK) in `s`, received at `now` by `sub`. */
  record(s: string, start: number, end: number, now: number, sub: number): void {
    const at = s.indexOf("@", start);
    const id = Number(s.slice(start, at));
    const sent = Number(s.slice(at + 1, end));
    if (id <= this.lastSeen[sub]!) this.disorder++;
    else this.lastSeen[sub] = id;
    if (id < this.warmup || id >= this.counts.length) return;
    this.counts[id]!++;
    this.received++;
    if (now > this.last[id]!) this.last[id] = now;
    this.sendAt[id] = sent;
    if (this.n < this.latencies.length) this.latencies[this.n++] = now - sent;
  }

  /** Scans `s` from `from` for complete markers; returns where an incomplete tail starts. */
  scan(s: string, from: number, now: number, sub: number): number {
    for (;;) {
      const k = s.indexOf(MARK, from);
      if (k < 0) return Math.max(from, s.length - MARK.length);
      const start = k + MARK.length;
      const end = s.indexOf('"', start);
      if (end < 0) return k;
      this.record(s, start, end, now, sub);
      from = end;
    }
  }
}

export async function inBatches(count: number, concurrency: number, open: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await open(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export interface Subscribers {
  close(): Promise<void>;
}

/** Receives each text frame (or SSE bytes) a subscriber got; returns where an incomplete tail starts. */
export interface FrameSink {
  scan(s: string, from: number, now: number, sub: number): number;
}

async function openWs(url: string, count: number, concurrency: number, rx: FrameSink, path = "/ws?topics=chat"): Promise<Subscribers> {
  const sockets: WebSocket[] = [];
  await inBatches(count, concurrency, (i) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}${path}`);
    sockets.push(ws);
    ws.onmessage = (ev) => {
      const now = performance.now();
      rx.scan(ev.data as string, 0, now, i);
    };
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`subscriber ${i} failed to connect`));
    });
  });
  return {
    async close() {
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.onclose = () => resolve();
              ws.close();
            }),
        ),
      );
    },
  };
}

/**
 * WebSocket subscribers over raw TCP (`Bun.connect`): the handshake and a minimal frame reader
 * (server frames are unmasked; pings are answered). Bun's `WebSocket` client dispatches a
 * `MessageEvent` per frame, which costs enough per message that with 1000 subscribers in one
 * process the client, not the server, would set the latency; this reader makes the client's
 * share small and the same for every variant. With a `dialect`, its `control` sees each text frame
 * first (replies go out masked with an all-zero mask, so the payload is sent as is).
 */
export async function openRawWs(url: string, count: number, concurrency: number, rx: FrameSink, dialect: Dialect = {}): Promise<Subscribers> {
  const control = dialect.control;
  const { hostname, port } = new URL(url);
  const sockets: { end(): void }[] = [];
  const closed: Promise<void>[] = [];
  await inBatches(count, concurrency, async (i) => {
    let pending: Buffer | undefined;
    let upgraded = false;
    let onUpgrade: (error?: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => (onUpgrade = (error) => (error ? reject(error) : resolve())));
    let onClose: () => void = () => {};
    closed.push(new Promise<void>((r) => (onClose = r)));
    const socket = await Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        data(sock, chunk) {
          const now = performance.now();
          const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
          pending = undefined;
          let o = 0;
          if (!upgraded) {
            const end = buf.indexOf("\r\n\r\n");
            if (end < 0) return void (pending = buf);
            if (!buf.toString("latin1", 0, 12).startsWith("HTTP/1.1 101"))
              return onUpgrade(new Error(`subscriber ${i}: upgrade refused: ${buf.toString("latin1", 0, end)}`));
            upgraded = true;
            o = end + 4;
            if (!control) onUpgrade();
          }
          while (buf.length - o >= 2) {
            const opcode = buf[o]! & 0x0f;
            let len = buf[o + 1]! & 0x7f;
            let head = 2;
            if (len === 126) {
              if (buf.length - o < 4) break;
              len = buf.readUInt16BE(o + 2);
              head = 4;
            } else if (len === 127) {
              if (buf.length - o < 10) break;
              len = Number(buf.readBigUInt64BE(o + 2));
              head = 10;
            }
            if (buf.length - o < head + len) break;
            const start = o + head;
            if (opcode === 0x1 && control) {
              const text = buf.toString("latin1", start, start + len);
              const c = control(text);
              // Handshake replies are a few bytes: the 7-bit length field is enough.
              if (c?.reply !== undefined) sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | c.reply.length, 0, 0, 0, 0]), Buffer.from(c.reply, "latin1")]));
              if (c?.ready) onUpgrade();
              if (c?.error !== undefined) onUpgrade(new Error(`subscriber ${i}: refused: ${c.error}`));
              rx.scan(text, 0, now, i);
            } else if (opcode === 0x1) rx.scan(buf.toString("latin1", start, start + len), 0, now, i);
            // Pong with an all-zero mask: the payload goes out unchanged.
            else if (opcode === 0x9) sock.write(Buffer.concat([Buffer.from([0x8a, 0x80 | len, 0, 0, 0, 0]), buf.subarray(start, start + len)]));
            o = start + len;
          }
          if (o < buf.length) pending = buf.subarray(o);
        },
        close() {
          // Closed before it was subscribed: fail the connect instead of waiting forever.
          onUpgrade(new Error(`subscriber ${i}: closed before it was subscribed`));
          onClose();
        },
        error() {
          onUpgrade(new Error(`subscriber ${i}: socket error before it was subscribed`));
          onClose();
        },
      },
    });
    socket.write(
      `GET ${dialect.wsPath ?? "/ws?topics=chat"} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    sockets.push(socket);
    await ready;
  });
  return {
    async close() {
      for (const s of sockets) s.end();
      await Promise.all(closed);
    },
  };
}

/**
 * SSE subscribers over raw TCP (`Bun.connect`): no fetch connection pool (Bun's caps concurrent
 * requests at 256 by default) and the bytes are scanned as they arrive.
 */
async function openSse(url: string, count: number, concurrency: number, rx: FrameSink, dialect: Dialect = {}): Promise<Subscribers> {
  const { hostname, port } = new URL(url);
  const sockets: { end(): void }[] = [];
  const closed: Promise<void>[] = [];
  await inBatches(count, concurrency, async (i) => {
    let pending = "";
    let onFirst: () => void = () => {};
    const first = new Promise<void>((r) => (onFirst = r));
    let onClose: () => void = () => {};
    closed.push(new Promise<void>((r) => (onClose = r)));
    const socket = await Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        data(_s, chunk) {
          const now = performance.now();
          const s = pending + chunk.toString("latin1");
          pending = s.slice(rx.scan(s, 0, now, i));
          onFirst();
        },
        close() {
          onClose();
        },
        error() {
          onClose();
        },
      },
    });
    const path = dialect.ssePath?.(i) ?? `/events?topics=chat&client_id=bench-${i}`;
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
    sockets.push(socket);
    // The server registers the stream before it writes its first comment.
    await first;
  });
  return {
    async close() {
      for (const s of sockets) s.end();
      await Promise.all(closed);
    },
  };
}

function openSubscribers(opts: Pick<LoadOptions, "url" | "transport" | "subscribers" | "dialect">, concurrency: number, rx: Receipts): Promise<Subscribers> {
  if (opts.transport === "ws") return openRawWs(opts.url, opts.subscribers, concurrency, rx, opts.dialect);
  if (opts.transport === "ws-bun") return openWs(opts.url, opts.subscribers, concurrency, rx, opts.dialect?.wsPath);
  return openSse(opts.url, opts.subscribers, concurrency, rx, opts.dialect);
}

/** Opens the publisher socket; resolves once it is connected (and, with a `control`, ready). */
async function openPublisher(url: string, dialect: Dialect = {}): Promise<{ ws: WebSocket; errors: () => number }> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${dialect.publishPath ?? "/ws?topics="}`);
  let errors = 0;
  let onReady: (error?: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => (onReady = (error) => (error ? reject(error) : resolve())));
  const control = dialect.control;
  ws.onmessage = (ev) => {
    if (typeof ev.data !== "string") return;
    if (ev.data.startsWith('{"op":"error"')) errors++;
    const c = control?.(ev.data);
    if (c?.reply !== undefined) ws.send(c.reply);
    if (c?.ready) onReady();
    if (c?.error !== undefined) errors++, onReady(new Error(`publisher refused: ${c.error}`));
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("publisher failed to connect"));
  });
  if (control) await ready;
  return { ws, errors: () => errors };
}

/**
 * Sends `total` messages at `rate`/s on wall-clock slots (late slots are sent at once, not
 * skipped). Stamps are `performance.now()` plus `offset` (the subscribers' clock, if another).
 */
async function publish(ws: WebSocket, total: number, rate: number, frame = tickwireFrame, offset = 0): Promise<{ firstAt: number; lastAt: number }> {
  const period = 1000 / rate;
  const t0 = performance.now();
  let lastAt = t0;
  for (let i = 0; i < total; i++) {
    const due = t0 + i * period;
    const wait = due - performance.now();
    if (wait > 0.5) await new Promise((r) => setTimeout(r, wait));
    lastAt = performance.now();
    ws.send(frame(`k${i}@${(lastAt + offset).toFixed(3)}`));
  }
  return { firstAt: t0, lastAt };
}

/** Runs one measured load against `opts.url`. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const warmup = Math.round(opts.warmupSeconds * opts.rate);
  const measured = Math.round(opts.seconds * opts.rate);
  const rx = new Receipts(warmup, measured, opts.subscribers);
  const concurrency = opts.connectConcurrency ?? 256;
  const connectStart = performance.now();
  const native = opts.client === "native" ? await openNativeFor(opts, warmup, measured) : undefined;
  const subs = native ? undefined : await openSubscribers(opts, concurrency, rx);
  const connectMs = performance.now() - connectStart;
  const pub = await openPublisher(opts.url, opts.dialect);

  const expected = measured * opts.subscribers;
  const cpuBefore = await opts.serverCpuMs?.();
  const clientBefore = process.cpuUsage();
  const phaseStart = performance.now();
  native?.go();
  const sent = await publish(pub.ws, warmup + measured, opts.rate, opts.dialect?.publishFrame, native?.offset);
  const drainUntil = performance.now() + opts.drainMs;
  if (native) await native.done(opts.drainMs);
  else while (rx.received < expected && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
  const phaseMs = performance.now() - phaseStart;
  const clientUsage = process.cpuUsage(clientBefore);
  const serverCpuMs = cpuBefore === undefined ? undefined : (await opts.serverCpuMs!()) - cpuBefore;

  pub.ws.close();
  await subs?.close();
  let nativeCpuMs = 0;
  if (native) {
    const got = await native.stop();
    // Its stamps and receive times are on the C process's clock; completions only need differences.
    const { received, disorder, counts, last, sendAt, latencies } = got;
    Object.assign(rx, { received, disorder, counts, last, sendAt, latencies, n: latencies.length });
    nativeCpuMs = got.cpuMs;
  }

  const completions: number[] = [];
  for (let id = warmup; id < warmup + measured; id++) {
    if (rx.counts[id] === opts.subscribers) completions.push(rx.last[id]! - rx.sendAt[id]!);
  }
  const latencies = rx.latencies.slice(0, rx.n).sort();
  const windowS = Math.max(1e-3, (sent.lastAt - sent.firstAt) / 1000) * (measured / (warmup + measured));
  return {
    transport: opts.transport,
    subscribers: opts.subscribers,
    rate: opts.rate,
    messages: measured,
    expectedDeliveries: expected,
    deliveries: rx.received,
    lost: expected - rx.received,
    duplicatesOrReordered: rx.disorder,
    publishErrors: pub.errors(),
    deliveredPerSecond: rx.received / windowS,
    latencies,
    completions: Float64Array.from(completions).sort(),
    connectMs,
    serverCpuMs,
    clientCpuMs: (clientUsage.user + clientUsage.system) / 1000 + nativeCpuMs,
    phaseMs,
  };
}

function openNativeFor(opts: LoadOptions, warmup: number, measured: number) {
  if (opts.transport === "ws-bun" || opts.dialect?.control || opts.dialect?.ssePath)
    throw new Error(`--client native: speaks tickwire's protocol over ws and sse only (not ${opts.dialect ? "this dialect" : opts.transport})`);
  return openNative({ url: opts.url, transport: opts.transport, count: opts.subscribers, warmup, measured, wsPath: opts.dialect?.wsPath });
}

/**
 * Starts a load that runs until stopped (for benchmarks that measure something else under load,
 * e.g. tick lateness). Latencies are not kept; deliveries are counted.
 */
export async function startBackgroundLoad(
  opts: Omit<LoadOptions, "seconds" | "warmupSeconds" | "drainMs">,
): Promise<{ stop(): Promise<{ sent: number; deliveries: number; publishErrors: number }> }> {
  const rx = new Receipts(0, 0, opts.subscribers);
  let deliveries = 0;
  const record = rx.record.bind(rx);
  rx.record = (s, start, end, now, sub) => {
    deliveries++;
    record(s, start, end, now, sub);
  };
  const concurrency = opts.connectConcurrency ?? 256;
  const subs = await openSubscribers(opts, concurrency, rx);
  const pub = await openPublisher(opts.url, opts.dialect);
  const frame = opts.dialect?.publishFrame ?? tickwireFrame;
  let running = true;
  let sent = 0;
  const loop = (async () => {
    const period = 1000 / opts.rate;
    const t0 = performance.now();
    while (running) {
      const wait = t0 + sent * period - performance.now();
      if (wait > 0.5) await new Promise((r) => setTimeout(r, wait));
      pub.ws.send(frame(`k${sent}@${performance.now().toFixed(3)}`));
      sent++;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      pub.ws.close();
      await subs.close();
      return { sent, deliveries, publishErrors: pub.errors() };
    },
  };
}
