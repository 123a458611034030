/**
 * A timer change made on instance A while instance B starts (MySQL + Redis): B's hub tails the
 * log from its construction, before the timers feature has loaded the table. A pause that B's
 * tail delivers while B's load is still reading the pre-pause row must still reach B's timers:
 * B's snapshot, whose position is past the pause, shows the timer paused (it showed it running,
 * and nothing ever corrected it: a resume from the snapshot's seq starts after the pause).
 * The load is held open by a proxy in front of B's MySQL that withholds the replies to the
 * connection that sent the load's `select … from \`timers\``.
 */
import { afterAll, expect, it } from "bun:test";
import { Hub } from "../src/core/hub.ts";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

const mode = MODES.find((m) => m.name === "mysql+redis")!;

// B's hub exists before its start resolves: note every hub as it gets its transports.
const hubs: Hub[] = [];
const addTransport = Hub.prototype.addTransport;
Hub.prototype.addTransport = function (this: Hub, transport) {
  if (!hubs.includes(this)) hubs.push(this);
  return addTransport.call(this, transport);
};

/** A MySQL proxy that, once a connection has sent the timers load, holds its replies until `release()`. */
function loadHoldingProxy() {
  let holding = false;
  let sawLoad = false;
  const held: (() => void)[] = [];
  const listener = Bun.listen<{ up?: { write(b: Uint8Array): number; end(): void }; pending: Uint8Array[]; hold: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { pending: [], hold: false };
        void Bun.connect({
          hostname: "127.0.0.1",
          port: 3306,
          socket: {
            open(up) {
              client.data.up = up;
              for (const chunk of client.data.pending.splice(0)) up.write(chunk);
            },
            data(_up, chunk) {
              const bytes = new Uint8Array(chunk);
              if (client.data.hold && holding) held.push(() => client.write(bytes));
              else client.write(bytes);
            },
            close() {
              client.end();
            },
            error() {},
          },
        }).catch(() => client.end());
      },
      data(client, chunk) {
        const bytes = new Uint8Array(chunk);
        if (!sawLoad && /from `timers`\s*$/i.test(Buffer.from(bytes).toString("latin1").replace(/\0/g, ""))) {
          sawLoad = true;
          holding = true;
          client.data.hold = true;
        }
        if (client.data.up) client.data.up.write(bytes);
        else client.data.pending.push(bytes);
      },
      close: (client) => client.data.up?.end(),
      error() {},
    },
  });
  return {
    port: listener.port,
    sawLoad: () => sawLoad,
    release() {
      holding = false;
      for (const send of held.splice(0)) send();
    },
    stop: () => listener.stop(true),
  };
}

const proxy = loadHoldingProxy();
const apps: Tickwire[] = [];
let database: Awaited<ReturnType<typeof ownDatabase>> | undefined;
afterAll(async () => {
  proxy.release();
  for (const app of apps) await app.stop();
  proxy.stop();
  await database?.drop();
  Hub.prototype.addTransport = addTransport;
});

it("applies a change its tail delivered while the timers were loading: the snapshot shows it", async () => {
  database = await ownDatabase("start-race");
  const prefix = uniquePrefix("start-race");
  const a = await startServer(timersEnv(mode, prefix, database.url));
  apps.push(a);
  const session = uniquePrefix("s");
  const onA = wsClient(wsUrl(a, `/ws/customer/${session}`));
  await onA.opened;
  const timer = (await api(a).create(session, 600)).body;
  await onA.next((f) => f.type === "TIMER_CREATE");

  const viaProxy = new URL(database.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  const startingB = startServer(timersEnv(mode, prefix, viaProxy.toString()));
  await until(() => proxy.sawLoad(), { message: "B's timers load" });
  const hubB = hubs.at(-1)!;
  expect((await api(a).pause(timer.id)).body.status).toBe("paused");
  const pauseSeq = (await onA.next((f) => f.type === "TIMER_PAUSE")).seq as string;
  await until(() => compareSeq(hubB.lastDelivered("timers") ?? "0-0", pauseSeq) >= 0, { message: "B's hub delivered the pause" });
  proxy.release();
  const b = await startingB;
  apps.push(b);

  const customer = wsClient(wsUrl(b, `/ws/customer/${session}`));
  await customer.opened;
  const snapshot = await customer.next((f) => f.type === "TIMER_UPDATE" && f.payload.id === timer.id);
  expect(compareSeq(snapshot.seq, pauseSeq)).toBeGreaterThan(0);
  expect(snapshot.payload).toMatchObject({ status: "paused", isPaused: true });
  await until(async () => (await api(b).get(timer.id)).body.status === "paused", { message: "B's map to hold the pause" });
  onA.close();
  customer.close();
}, 60_000);
