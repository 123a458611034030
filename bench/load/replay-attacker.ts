/**
 * The attacker of replay-amplification.ts, in a process of its own so that what it receives does
 * not slow down the probes that measure the other clients. Each of `sockets` raw-TCP WebSockets
 * (a hand-written client: Bun's `WebSocket` would cost more per frame than the server does, and
 * a replay is ~1000 frames) sends `unsubscribe` + `subscribe` pairs with `since` on `topic`, the
 * next one as soon as the last was refused (`rate_limited`, `replay_busy`) or its replay has
 * arrived in full (the frame with seq `last`). With `reconnect`, a socket told `rate_limited`
 * closes and opens a new connection (a fresh per-connection allowance). Stops at `deadline`
 * (epoch ms) or after `maxPairs` pairs per socket, then prints its counts as one JSON line.
 *
 *   bun bench/load/replay-attacker.ts '<json: {url, token, topic, since, last, sockets, maxPairs, deadline, reconnect}>'
 * @module
 */

interface AttackConfig {
  /** `http://host:port` of the attacked instance. */
  url: string;
  token: string;
  topic: string;
  since: string;
  /** The seq of the last frame a served replay sends. */
  last: string;
  sockets: number;
  maxPairs: number;
  /** `Date.now()` at which to stop. */
  deadline: number;
  reconnect: boolean;
}

export interface AttackStats {
  pairs: number;
  served: number;
  refused: Record<string, number>;
  /** Served replays that had not completed after {@link STUCK_MS}. */
  stuck: number;
  /** Bytes the attacker received (frames, headers included). */
  bytes: number;
  reconnects: number;
  /** Connections closed by the server (overflow 4008, or anything else). */
  closedByServer: number;
}

const STUCK_MS = 3000;
const config = JSON.parse(process.argv[2] ?? "{}") as AttackConfig;
const stats: AttackStats = { pairs: 0, served: 0, refused: {}, stuck: 0, bytes: 0, reconnects: 0, closedByServer: 0 };
const { hostname, port } = new URL(config.url);
const servedMark = `"seq":"${config.last}"`;
const refusals = ["rate_limited", "replay_busy", "forbidden", "replay_failed"].map((code) => ({ code, mark: `"code":"${code}"` }));
const KEEP = 64; // a marker may straddle two chunks: keep this much of the previous one

/** A client text frame: masked (RFC 6455), with a zero mask so the payload goes as is. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len, 0, 0, 0, 0]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff, 0, 0, 0, 0]);
  return Buffer.concat([head, payload]);
}

interface Conn {
  send(text: string): void;
  close(): void;
  /** Set by the loop: called with "served", a refusal code, or "closed". */
  outcome: ((what: string) => void) | undefined;
}

function connect(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    let head = true;
    let tail = "";
    let open = true;
    const conn: Conn = {
      send: () => {},
      close: () => {},
      outcome: undefined,
    };
    Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        open(socket) {
          conn.send = (text) => void socket.write(textFrame(text));
          conn.close = () => {
            open = false;
            socket.end();
          };
          socket.write(
            `GET /ws?topics=&token=${config.token} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          );
        },
        data(_socket, chunk) {
          stats.bytes += chunk.length;
          let s = tail + chunk.toString("latin1");
          if (head) {
            const end = s.indexOf("\r\n\r\n");
            if (end < 0) return void (tail = s);
            if (!s.startsWith("HTTP/1.1 101")) return reject(new Error(`upgrade refused: ${s.slice(0, s.indexOf("\r\n"))}`));
            head = false;
            s = s.slice(end + 4);
            resolve(conn);
          }
          if (conn.outcome) {
            const what = s.includes(servedMark) ? "served" : refusals.find((r) => s.includes(r.mark))?.code;
            if (what) {
              // Closed loop: nothing after the outcome belongs to the next pair, and the marker
              // must not be found again in the kept tail.
              tail = "";
              return conn.outcome(what);
            }
          }
          tail = s.slice(-KEEP);
        },
        close() {
          if (open) stats.closedByServer++;
          open = false;
          conn.outcome?.("closed");
        },
        error(_socket, error) {
          reject(error);
        },
      },
    }).catch(reject);
  });
}

async function attackSocket(): Promise<void> {
  let conn = await connect();
  let ref = 0;
  for (let i = 0; i < config.maxPairs && Date.now() < config.deadline; i++) {
    const result = new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("stuck"), STUCK_MS);
      conn.outcome = (what) => {
        conn.outcome = undefined;
        clearTimeout(timer);
        resolve(what);
      };
    });
    conn.send(`{"op":"unsubscribe","topic":${JSON.stringify(config.topic)},"ref":${++ref}}`);
    conn.send(`{"op":"subscribe","topic":${JSON.stringify(config.topic)},"since":${JSON.stringify(config.since)},"ref":${++ref}}`);
    stats.pairs++;
    const what = await result;
    if (what === "served") stats.served++;
    else if (what === "stuck") stats.stuck++;
    else if (what !== "closed") stats.refused[what] = (stats.refused[what] ?? 0) + 1;
    if (what === "closed" || (config.reconnect && what === "rate_limited")) {
      if (what !== "closed") conn.close();
      stats.reconnects++;
      conn = await connect();
    }
  }
  conn.close();
}

await Promise.all(Array.from({ length: config.sockets }, () => attackSocket()));
console.log(JSON.stringify(stats));
