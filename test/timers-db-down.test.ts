/**
 * A dead MySQL does not take the timer service down (with Redis configured): changes answer 503
 * with a clear message, reads and per-tick updates go on from hot state, `/health` reports the
 * database down, and everything works again once it is back. MySQL is "killed" by cutting a TCP
 * proxy in front of the shared server, so no other test's database is touched.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import type { Tickwire } from "../src/main.ts";
import { MODES, MYSQL_URL, startServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

interface Pipe {
  peer?: Socket<Pipe>;
  pending: Uint8Array[];
}

/** A TCP proxy to `upstream` that can be cut (every connection closed, port refusing) and restored. */
function tcpProxy(upstream: { hostname: string; port: number }) {
  const open = new Set<Socket<Pipe>>();
  let listener: TCPSocketListener<Pipe> | undefined;
  let port = 0;
  const send = (to: Socket<Pipe> | undefined, data: Uint8Array, queue: Uint8Array[]) => {
    if (!to || queue.length) return void queue.push(data);
    const n = to.write(data);
    if (n < data.length) queue.push(data.subarray(n));
  };
  const flush = (s: Socket<Pipe>, queue: Uint8Array[]) => {
    while (queue.length) {
      const chunk = queue[0]!;
      const n = s.write(chunk);
      if (n < chunk.length) {
        queue[0] = chunk.subarray(n);
        return;
      }
      queue.shift();
    }
  };
  const start = () => {
    listener = Bun.listen<Pipe>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          client.data = { pending: [] };
          open.add(client);
          void Bun.connect<Pipe>({
            ...upstream,
            socket: {
              open(server) {
                server.data = { peer: client, pending: [] };
                client.data.peer = server;
                open.add(server);
                flush(server, client.data.pending);
              },
              data(server, data) {
                send(client, data, server.data.pending);
              },
              drain(server) {
                flush(client, server.data.pending);
              },
              close(server) {
                open.delete(server);
                client.end();
              },
              error() {},
            },
          }).catch(() => client.end());
        },
        data(client, data) {
          send(client.data.peer, data, client.data.pending);
        },
        drain(client) {
          if (client.data.peer) flush(client.data.peer, client.data.peer.data.pending);
        },
        close(client) {
          open.delete(client);
          client.data.peer?.end();
        },
        error() {},
      },
    });
    port = listener.port;
  };
  start();
  return {
    get port() {
      return port;
    },
    cut() {
      listener?.stop(true);
      listener = undefined;
      for (const s of open) s.terminate();
      open.clear();
    },
    restore: start,
    stop() {
      this.cut();
    },
  };
}

const mode = MODES.find((m) => m.name === "mysql+redis")!;

describe("timers while MySQL is down (mysql+redis)", () => {
  let app: Tickwire;
  let database: Awaited<ReturnType<typeof ownDatabase>>;
  let proxy: ReturnType<typeof tcpProxy>;

  beforeAll(async () => {
    database = await ownDatabase("dbdown");
    const target = new URL(MYSQL_URL);
    proxy = tcpProxy({ hostname: target.hostname, port: Number(target.port || 3306) });
    const viaProxy = new URL(database.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    app = await startServer(timersEnv(mode, uniquePrefix("dbdown"), viaProxy.toString()));
  });
  afterAll(async () => {
    await app?.stop();
    proxy?.stop();
    await database?.drop();
  });

  it("answers 503 for changes, keeps serving reads and ticks, and recovers when MySQL is back", async () => {
    const http = api(app);
    const session = uniquePrefix("down");
    const t = (await http.create(session, 600)).body;
    const customer = wsClient(wsUrl(app, `/ws/customer/${session}`));
    await customer.opened;

    proxy.cut();
    const created = await http.create(session, 60);
    expect(created.status).toBe(503);
    expect(created.body.error.code).toBe("unavailable");
    expect(created.body.error.message).toContain("database");
    const paused = await http.pause(t.id);
    expect(paused.status).toBe(503);
    expect(paused.body.error.message).toContain("database");

    // Reads and the per-tick updates go on; the process is alive.
    expect((await http.get(t.id)).body).toMatchObject({ id: t.id, status: "running" });
    const mark = customer.frames.length;
    await customer.collect(mark + 2, (f) => f.type === "TIMER_UPDATE" && f.payload.id === t.id);
    const health = await fetch(`${app.url}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as any).checks.db).toBe("down");

    // A game master command gets an error frame, not a dropped connection.
    const gm = wsClient(wsUrl(app, `/ws/gamemaster/${session}`));
    await gm.opened;
    gm.send({ type: "TIMER_PAUSE", payload: { id: t.id }, ref: "p" });
    expect(await gm.next((f) => f.ref === "p")).toMatchObject({ op: "error", code: "unavailable" });

    proxy.restore();
    const again = await until(
      async () => {
        const r = await http.pause(t.id);
        return r.status === 200 && r;
      },
      { message: "pause to succeed once MySQL is back" },
    );
    expect(again.body).toMatchObject({ status: "paused" });
    await customer.next((f) => f.type === "TIMER_PAUSE");
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    gm.close();
    customer.close();
  }, 20_000);
});
