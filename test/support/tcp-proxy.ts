/**
 * A TCP proxy between a client and a server, to cut the network path under a test:
 *
 *   const proxy = await TcpProxy.start(serverPort);   // clients connect to proxy.port
 *   proxy.cut();        // every connection reset, new ones refused, until restore()
 *   proxy.blackhole();  // connections stay open but nothing passes (a dead path: no FIN, no RST)
 *   proxy.restore();    // traffic flows again (new connections; blackholed ones stay dead)
 *   proxy.target = p;   // later connections go to another port (a restarted server)
 *   proxy.stop();
 *
 * Bytes from one side are queued until the other side's connection is up (Bun's `Bun.connect`
 * resolves after the client may already have sent its upgrade request).
 * @module
 */
import type { Socket, TCPSocketListener } from "bun";

interface Pair {
  client: Socket<Side>;
  upstream: Socket<Side> | undefined;
  /** Client bytes waiting for the upstream connection. */
  pending: Uint8Array[];
  dead: boolean;
}

interface Side {
  pair: Pair;
  role: "client" | "upstream";
  /** Bytes the kernel did not take yet (a short write), sent on drain. */
  queued: Uint8Array[];
}

/** Writes all of `chunk`, queueing what a short write left for `drain`. */
function send(sock: Socket<Side>, chunk: Uint8Array): void {
  const q = sock.data.queued;
  if (q.length > 0) return void q.push(chunk);
  const n = sock.write(chunk);
  if (n < chunk.length) q.push(chunk.subarray(Math.max(0, n)));
}

function drain(sock: Socket<Side>): void {
  const q = sock.data.queued;
  while (q.length > 0) {
    const chunk = q[0]!;
    const n = sock.write(chunk);
    if (n < chunk.length) {
      q[0] = chunk.subarray(Math.max(0, n));
      return;
    }
    q.shift();
  }
}

export class TcpProxy {
  target: number;
  #listener: TCPSocketListener<Side> | undefined;
  #pairs = new Set<Pair>();
  #refusing = false;
  #blackholed = false;
  #clientCloses = 0;

  private constructor(target: number) {
    this.target = target;
  }

  static async start(target: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    proxy.#listen();
    return proxy;
  }

  get port(): number {
    return this.#listener!.port;
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return [...this.#pairs].filter((p) => !p.dead).length;
  }

  /** How many clients have closed their connection so far (a blackholed one's close goes no further). */
  get clientCloses(): number {
    return this.#clientCloses;
  }

  /** Resets every connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.#refusing = true;
    for (const pair of this.#pairs) this.#kill(pair);
  }

  /** Stops forwarding on every open connection (they stay open) and drops new ones' bytes. */
  blackhole(): void {
    this.#blackholed = true;
    for (const pair of this.#pairs) pair.dead = true;
  }

  restore(): void {
    this.#refusing = false;
    this.#blackholed = false;
  }

  stop(): void {
    for (const pair of this.#pairs) this.#kill(pair);
    this.#listener?.stop(true);
  }

  #kill(pair: Pair): void {
    pair.dead = true;
    this.#pairs.delete(pair);
    pair.client.terminate();
    pair.upstream?.terminate();
  }

  #listen(): void {
    this.#listener = Bun.listen<Side>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (client) => {
          if (this.#refusing) return void client.terminate();
          const pair: Pair = { client, upstream: undefined, pending: [], dead: this.#blackholed };
          client.data = { pair, role: "client", queued: [] };
          this.#pairs.add(pair);
          Bun.connect<Side>({
            hostname: "127.0.0.1",
            port: this.target,
            data: { pair, role: "upstream", queued: [] },
            socket: {
              open: (up) => {
                pair.upstream = up;
                for (const chunk of pair.pending.splice(0)) if (!pair.dead) send(up, chunk);
              },
              data: (_up, chunk) => {
                if (!pair.dead) send(pair.client, new Uint8Array(chunk));
              },
              drain,
              close: () => this.#closed(pair),
              error: () => this.#closed(pair),
            },
          }).catch(() => this.#closed(pair));
        },
        data: (client, chunk) => {
          const pair = client.data.pair;
          if (pair.dead) return;
          if (pair.upstream) send(pair.upstream, new Uint8Array(chunk));
          else pair.pending.push(new Uint8Array(chunk));
        },
        drain,
        close: (client) => {
          this.#clientCloses++;
          this.#closed(client.data?.pair);
        },
        error: (client) => this.#closed(client.data?.pair),
      },
    });
  }

  /** One side went away: so does the other, unless the pair is blackholed (a dead path stays silent). */
  #closed(pair: Pair | undefined): void {
    if (!pair || !this.#pairs.has(pair)) return;
    if (pair.dead && this.#blackholed) return;
    this.#pairs.delete(pair);
    pair.client.end();
    pair.upstream?.end();
  }
}
