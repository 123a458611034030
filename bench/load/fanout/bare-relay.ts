/**
 * The baseline every fanout figure is divided by: the least a Bun relay can do. Sockets on
 * `/ws?topics=chat` subscribe natively to `chat`; any text frame a socket sends is published
 * verbatim on `chat` with one `server.publish` (no parsing, no log, no framing). `GET /events`
 * streams the same frames as SSE (`data: <frame>\n\n`, written the way tickwire writes SSE: a
 * direct `ReadableStream`, one `write` per event, no `flush`, no ids, no replay, no backpressure
 * policy): the `bare-sse` baseline, the least Bun's HTTP streaming costs per delivery.
 *
 *   bun bench/load/fanout/bare-relay.ts [--port 0] [--tick-log]
 * Prints one JSON line `{"listening":<port>}` once it accepts connections. With `--tick-log` it
 * also runs tickwire's own Ticker (src/core/ticker.ts, 1000 ms, doing nothing on a tick) and
 * prints `{"tick":<lateness ms>,"at":…,"publishMaxMs":…,"publishMeanMs":…}` per tick: the
 * baseline for tick lateness under load (what the same timer suffers in a process whose only
 * work is the relay), with how long single `server.publish` calls held the event loop.
 * @module
 */
import { parseArgs } from "node:util";
import { systemClock } from "../../../src/core/clock.ts";
import { Ticker } from "../../../src/core/ticker.ts";

/**
 * `BARE_RELAY_PAD_BYTES`: spaces appended to every published frame, so the baseline can send
 * frames as large as tickwire's chat frames (197 B against the 67 B op text) and the payload
 * size can be told apart from tickwire's own cost (`fanout.ts` variant `bare-sized`, `--bare-pad`).
 */
const PAD = " ".repeat(Number(process.env.BARE_RELAY_PAD_BYTES ?? 0));

/** Durations of `server.publish` calls since the last tick (only kept with `--tick-log`). */
const publishes = { on: false, max: 0, sum: 0, n: 0 };

/** The open SSE streams' writers. */
const sseStreams = new Set<ReadableStreamDirectController>();
const utf8 = new TextEncoder();

function openSse(req: Request, srv: { timeout(req: Request, seconds: number): void }): Response {
  srv.timeout(req, 0);
  let writer: ReadableStreamDirectController | undefined;
  let ended = false;
  let end: () => void = () => {};
  const done = new Promise<void>((resolve) => (end = resolve));
  // The client went away: either signal may come first, or only one of them; both end it once.
  const gone = () => {
    ended = true;
    if (writer) sseStreams.delete(writer);
    end();
  };
  req.signal.addEventListener("abort", gone);
  const body = new ReadableStream({
    type: "direct",
    async pull(controller) {
      if (ended || req.signal.aborted) return;
      writer = controller;
      // Headers go out with the first bytes.
      controller.write(": ok\n\n");
      sseStreams.add(controller);
      await done;
    },
    cancel: gone,
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

/** Starts the bare relay; exported so micro benchmarks can run it in-process. */
export function startBareRelay(port = 0) {
  const server = Bun.serve<{ sub: boolean }>({
    port,
    hostname: "127.0.0.1",
    fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/ws" && srv.upgrade(req, { data: { sub: url.searchParams.get("topics") === "chat" } })) return;
      if (url.pathname === "/events") return openSse(req, srv);
      return new Response("bare relay: /ws?topics=chat to subscribe, /ws to publish, /events for SSE", { status: 404 });
    },
    websocket: {
      // Same limits as tickwire (src/app/server.ts) so neither side gets a different socket setup.
      backpressureLimit: 1024 * 1024,
      maxPayloadLength: 1024 * 1024,
      idleTimeout: 120,
      sendPings: true,
      open(ws) {
        if (ws.data.sub) ws.subscribe("chat");
      },
      message(_ws, message) {
        const frame = PAD ? `${message}${PAD}` : message;
        if (sseStreams.size > 0) {
          const event = utf8.encode(`data: ${frame}\n\n`);
          for (const writer of sseStreams) {
            try {
              if (writer.write(event) === 0) sseStreams.delete(writer);
            } catch {
              sseStreams.delete(writer); // closed under us: drop it, keep serving the others
            }
          }
        }
        if (!publishes.on) return void server.publish("chat", frame);
        const t0 = performance.now();
        server.publish("chat", frame);
        const ms = performance.now() - t0;
        publishes.max = Math.max(publishes.max, ms);
        publishes.sum += ms;
        publishes.n++;
      },
    },
  });
  return server;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, "tick-log": { type: "boolean", default: false } } });
  const server = startBareRelay(Number(values.port));
  if (values["tick-log"]) {
    publishes.on = true;
    new Ticker({
      periodMs: Number(process.env.TICK_MS ?? 1000),
      clock: systemClock,
      onTick: () => {},
      onLateness: (ms) => {
        const line = { tick: ms, at: Date.now(), publishMaxMs: publishes.max, publishMeanMs: publishes.n ? publishes.sum / publishes.n : 0 };
        console.log(JSON.stringify(line));
        Object.assign(publishes, { max: 0, sum: 0, n: 0 });
      },
    }).start();
  }
  console.log(JSON.stringify({ listening: server.port }));
  process.on("SIGTERM", () => {
    server.stop(true);
    process.exit(0);
  });
}
