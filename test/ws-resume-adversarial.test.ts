/**
 * WebSocket resume on `/ws` under hostile use, in both storage modes, while chat and relay are
 * being published: a client resumed with one `since` for `chat,relay,timers,cron` from every kind
 * of seq it received (a durable one of each topic, a timer update's `<seq>.<k>`, a tick's
 * `<tick>-0`) gets exactly the durable entries after it, once each, in seq order across the
 * topics; a `subscribe` with `since` of a topic in the middle of the merged replay (a restart), or
 * an unsubscribe then a subscribe with `since`, replays that topic from there and leaves the
 * others untouched; a socket that stops reading during the merged replay is closed with 4008 after
 * a prefix of it and gets the rest from its last seq; a `since` from another epoch or from the
 * future is answered `recovered:false` and then every live entry arrives. (It did not: after a
 * future `since` the first live entry of each topic that had finished its replay before the
 * others was skipped as "already sent", after the client had been told to reload and had got a
 * tick: silent loss of an acknowledged entry.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { compareSeq } from "../src/core/seq.ts";
import type { Tickwire } from "../src/main.ts";
import { closeCode, pausedWebSocket, serverFrames } from "./support/raw-ws.ts";
import { MODES, startServer, wsUrl } from "./support/server.ts";
import { until } from "./support/until.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";
import { api, ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

const DURABLE = ["chat", "relay", "timers"] as const;
type Durable = (typeof DURABLE)[number];
const TOPICS = "chat,relay,timers,cron";

/** A durable frame of one of the topics (not an op, not a tick or a timer update). */
const isDurable = (f: any) => f?.op === undefined && DURABLE.includes(f?.topic) && f.type !== "TIMER_UPDATE";
const durableOf = (client: WsTestClient, from = 0) => (client.frames.slice(from) as any[]).filter(isDurable) as { topic: Durable; seq: string }[];
const control = (client: WsTestClient) => (client.frames as any[]).filter((f) => f?.op === "error" || f?.op === "recovered");
/** Resolves once `client` has received a frame matching `match`, whenever it came. */
const seen = (client: WsTestClient, match: (f: any) => boolean, timeoutMs = 15_000) => client.collect(1, match, timeoutMs);
const sorted = (seqs: string[]) => [...seqs].sort(compareSeq);
const after = (seqs: string[], since: string) => seqs.filter((s) => compareSeq(s, since) > 0);

/** The first two consecutive seqs that do not increase, if any. */
function firstDecrease(seqs: string[]): [string, string] | undefined {
  for (let i = 1; i < seqs.length; i++) if (compareSeq(seqs[i - 1]!, seqs[i]!) >= 0) return [seqs[i - 1]!, seqs[i]!];
  return undefined;
}

/** The one writer of chat (`/ws` publish ops) and relay (`/ws/manager`) of a server: every acknowledged seq. */
async function writer(app: Tickwire) {
  const pub = wsClient(wsUrl(app, "/ws?topics="));
  const manager = wsClient(wsUrl(app, "/ws/manager"));
  await Promise.all([pub.opened, manager.opened]);
  const acked = { chat: [] as string[], relay: [] as string[] };
  // Each publish's answer, by ref, as it arrives (answers may come in another order than the publishes).
  const answers = new Map<string, (f: any) => void>();
  pub.ws.addEventListener("message", (e) => {
    const f = JSON.parse(String(e.data));
    if (typeof f.ref === "string") answers.get(f.ref)?.(f);
  });
  const answer = (ref: string) => new Promise<any>((resolve) => answers.set(ref, resolve));
  let refs = 0;
  let relays = 0;
  let flooding: Promise<void> | undefined;
  let stopping = false;
  const w = {
    acked,
    /** Publishes `n` chat messages (50 unanswered at most) of `size` characters; their seqs. */
    async chat(n = 1, size = 8): Promise<string[]> {
      const mine: string[] = [];
      for (let i = 0; i < n; i += 50) {
        const batch = Array.from({ length: Math.min(50, n - i) }, () => `c${refs++}`);
        const answered = batch.map(answer);
        for (const ref of batch) pub.send({ op: "publish", topic: "chat", data: { content: ref.padEnd(size, ".") }, ref });
        for (const ack of await Promise.all(answered)) {
          expect(ack).toMatchObject({ op: "ack", topic: "chat" });
          mine.push(ack.seq);
          answers.delete(ack.ref);
        }
      }
      acked.chat.push(...mine);
      return mine;
    },
    /** Sends `n` relay messages of `size` characters; their seqs. */
    async relay(n = 1, size = 8): Promise<string[]> {
      const mine: string[] = [];
      for (let i = 0; i < n; i++) {
        manager.send(`r${relays}`.padEnd(size, "."));
        const acks = await manager.collect(++relays, (f) => f?.op === "ack" || f?.op === "error", 20_000);
        expect(acks.at(-1).op).toBe("ack");
        mine.push(acks.at(-1).seq);
      }
      acked.relay.push(...mine);
      return mine;
    },
    /** Publishes chat and relay, one after the other, until {@link stop}. */
    flood(): void {
      stopping = false;
      flooding = (async () => {
        while (!stopping) {
          await w.chat(3);
          await w.relay();
        }
      })();
      flooding.catch(() => {}); // reported by stop()
    },
    async stop(): Promise<void> {
      stopping = true;
      await flooding;
    },
    close() {
      pub.close();
      manager.close();
    },
  };
  return w;
}

describe.each(MODES)("WS resume adversarial ($name)", (mode) => {
  let app: Tickwire;
  let w: Awaited<ReturnType<typeof writer>>;
  let database: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  const clients: WsTestClient[] = [];
  const connect = (path: string) => {
    const c = wsClient(wsUrl(app, path));
    clients.push(c);
    return c;
  };
  const openSockets = async (): Promise<number> => ((await (await fetch(`${app.url}/health`)).json()) as any).connections.ws;
  /** The durable seqs of `topic` acknowledged so far, in seq order. */
  const truth = (topic: "chat" | "relay") => sorted(w.acked[topic]);

  beforeAll(async () => {
    if (mode.name === "mysql+redis") database = await ownDatabase("wsresadv");
    app = await startServer(
      timersEnv(mode, uniquePrefix("ws-res-adv"), database?.url, {
        HISTORY_SIZE: "5000",
        WS_PUBLISHES_PER_SECOND: "100000",
        WS_OPS_PER_SECOND: "100000",
        REPLAY_RATE: "10000",
        REPLAY_BURST: "10000",
        WS_BACKPRESSURE_LIMIT: "65536",
      }),
    );
    w = await writer(app);
  });
  afterEach(() => w.stop());
  afterAll(async () => {
    for (const c of clients) c.close();
    w?.close();
    await app?.stop();
    await database?.drop();
  });

  it("resumed with one since of every kind it received, gets exactly the durable entries after it on each topic", async () => {
    const http = api(app);
    const original = connect(`/ws?topics=${TOPICS}`);
    await original.next((f) => f.topic === "cron", 5000);
    const timer = await http.create(uniquePrefix("res-adv"), 600);
    expect(timer.status).toBe(201);
    const ticks = () => original.frames.filter((f: any) => f?.topic === "cron").length;
    // Chat, relay and timer changes interleaved, with ticks and timer updates between them.
    for (let round = 0; round < 8; round++) {
      await w.chat(5);
      await w.relay(2);
      if (round % 2 === 1) expect((round % 4 === 1 ? await http.pause(timer.body.id) : await http.resume(timer.body.id)).status).toBe(200);
      const seen = ticks();
      await original.collect(seen + 1, (f) => f?.topic === "cron", 5000);
    }
    await original.next((f) => f.type === "TIMER_UPDATE", 5000);
    await seen(original, (f) => f.topic === "relay" && f.seq === w.acked.relay.at(-1), 5000);
    await seen(original, (f) => f.topic === "chat" && f.seq === w.acked.chat.at(-1), 5000);
    const seenFrames = [...original.frames] as any[];
    const timers = sorted(
      durableOf(original)
        .filter((f) => f.topic === "timers")
        .map((f) => f.seq),
    );
    expect(timers.length).toBe(5); // create, pause, resume, pause, resume
    expect(
      durableOf(original)
        .filter((f) => f.topic === "chat")
        .map((f) => f.seq),
    ).toEqual(truth("chat"));
    expect(
      durableOf(original)
        .filter((f) => f.topic === "relay")
        .map((f) => f.seq),
    ).toEqual(truth("relay"));

    // Offsets of each kind, spread over what the original got.
    const kinds: Record<string, (f: any) => boolean> = {
      chat: (f) => isDurable(f) && f.topic === "chat",
      relay: (f) => isDurable(f) && f.topic === "relay",
      timers: (f) => isDurable(f) && f.topic === "timers",
      update: (f) => f?.type === "TIMER_UPDATE" && f.topic === "timers",
      tick: (f) => f?.topic === "cron" && f.op === undefined,
    };
    const picks: { kind: string; at: number }[] = [];
    for (const [kind, match] of Object.entries(kinds)) {
      const at = seenFrames.flatMap((f, i) => (match(f) ? [i] : []));
      for (const i of new Set([0, 1, 2, 3].map((q) => at[Math.floor((q * (at.length - 1)) / 3)]!))) picks.push({ kind, at: i });
    }
    expect(picks.filter((p) => p.kind === "update").length).toBeGreaterThan(1);
    expect(seenFrames.filter(kinds.update!).every((f) => /^\d+-\d+\.\d+$/.test(f.seq))).toBe(true);

    w.flood();
    const resumed = [];
    for (const pick of picks) {
      const since = seenFrames[pick.at].seq as string;
      resumed.push({ ...pick, since, client: connect(`/ws?topics=${TOPICS}&since=${since}`) });
    }
    await w.stop();
    const [lastChat] = await w.chat();
    const [lastRelay] = await w.relay();
    const problems: string[] = [];
    for (const { kind, at, since, client } of resumed) {
      await seen(client, (f) => f.topic === "chat" && f.seq === lastChat, 15_000);
      await seen(client, (f) => f.topic === "relay" && f.seq === lastRelay, 15_000);
      const got = durableOf(client);
      const why = (what: string) => problems.push(`since ${since} (${kind}): ${what}`);
      // Embedded, a topic's epoch starts at its first entry: a resume from before it is told
      // recovered:false though nothing of it is missing (a needless reload, never a loss: its whole
      // history is still checked below). Anything else said is a lie.
      const firstOf = (topic: string) => (topic === "timers" ? timers : truth(topic as "chat" | "relay"))[0]!;
      const needless = (f: any) => mode.name === "embedded" && f.op === "recovered" && compareSeq(since, firstOf(f.topic)) < 0;
      const said = control(client).filter((f) => !needless(f));
      if (said.length > 0) why(`control frames ${JSON.stringify(said)}`);
      const across = firstDecrease(got.map((f) => f.seq));
      if (across) why(`durable seqs went back across topics: ${across.join(" then ")}`);
      for (const topic of DURABLE) {
        const all = topic === "timers" ? timers : truth(topic);
        const mine = got.filter((f) => f.topic === topic).map((f) => f.seq);
        if (kind !== "tick") {
          if (JSON.stringify(mine) !== JSON.stringify(after(all, since))) why(`${topic}: expected ${after(all, since).length}, got ${mine.length}`);
          continue;
        }
        // From a tick: from its mark, so also what was numbered before it but delivered after it.
        const start = mine.length > 0 ? all.indexOf(mine[0]!) : all.length;
        const early = mine.filter((s) => compareSeq(s, since) <= 0);
        const before = new Set(seenFrames.slice(0, at).map((f) => f?.seq));
        if (JSON.stringify(mine) !== JSON.stringify(all.slice(start)) || after(all, since).some((s) => !mine.includes(s)))
          why(`${topic}: not every entry after the tick`);
        if (early.some((s) => before.has(s))) why(`${topic}: repeated ${early.filter((s) => before.has(s))} it had before the tick`);
      }
      client.close();
    }
    expect(problems).toEqual([]);
    original.close();
  });

  /** A history long enough for a merged replay of many slices: chat with relay between. */
  async function history(): Promise<{ since: string; chat: string[] }> {
    await w.relay(); // every topic written before the offset (see the embedded epoch note above)
    const [since] = await w.chat();
    const chat: string[] = [];
    for (let i = 0; i < 6; i++) {
      chat.push(...(await w.chat(100)));
      await w.relay(5);
    }
    return { since: since!, chat };
  }

  for (const when of ["while it holds the history", "while it writes the merged history out"]) {
    it(`a subscribe with since of a topic in a merged replay, ${when}, replays it from there; the other topic gets everything once`, async () => {
      const { since, chat } = await history();
      const again = chat[250]!;
      w.flood();
      const client = connect(`/ws?topics=chat,relay,cron&since=${since}`);
      await client.opened;
      if (when.includes("writes")) await client.next(isDurable);
      client.send({ op: "subscribe", topic: "chat", since: again, ref: "again" });
      await client.next((f) => f.ref === "again");
      await w.stop();
      const [lastChat] = await w.chat();
      const [lastRelay] = await w.relay();
      await seen(client, (f) => f.topic === "chat" && f.seq === lastChat, 15_000);
      await seen(client, (f) => f.topic === "relay" && f.seq === lastRelay, 15_000);
      const ack = client.frames.findIndex((f: any) => f.ref === "again");
      const seqs = (frames: { topic: string; seq: string }[], topic: string) => frames.filter((f) => f.topic === topic).map((f) => f.seq);
      const beforeAck = seqs(durableOf(client).slice(0, durableOf(client).length - durableOf(client, ack).length), "chat");
      expect(beforeAck).toEqual(after(truth("chat"), since).slice(0, beforeAck.length));
      // It came in the middle of the merged replay: before the client had the history.
      expect(durableOf(client).length - durableOf(client, ack).length).toBeLessThan(chat.length);
      expect(seqs(durableOf(client, ack), "chat")).toEqual(after(truth("chat"), again));
      expect(seqs(durableOf(client), "relay")).toEqual(after(truth("relay"), since));
      expect(control(client)).toEqual([]);
      client.close();
    });
  }

  it("an unsubscribe during a merged replay, then a subscribe with since, replays that topic from there", async () => {
    const { since, chat } = await history();
    const again = chat[400]!;
    w.flood();
    const client = connect(`/ws?topics=chat,relay,cron&since=${since}`);
    await client.opened;
    client.send({ op: "unsubscribe", topic: "chat", ref: "off" });
    await client.next((f) => f.ref === "off");
    await w.chat(5);
    client.send({ op: "subscribe", topic: "chat", since: again, ref: "on" });
    await client.next((f) => f.ref === "on");
    await w.stop();
    const [lastChat] = await w.chat();
    const [lastRelay] = await w.relay();
    await seen(client, (f) => f.topic === "chat" && f.seq === lastChat, 15_000);
    await seen(client, (f) => f.topic === "relay" && f.seq === lastRelay, 15_000);
    const off = client.frames.findIndex((f: any) => f.ref === "off");
    expect(client.frames.slice(0, off).filter(isDurable).length).toBeLessThan(chat.length);
    const on = client.frames.findIndex((f: any) => f.ref === "on");
    expect(client.frames.slice(off, on).filter((f: any) => isDurable(f) && f.topic === "chat")).toEqual([]);
    expect(
      durableOf(client, on)
        .filter((f) => f.topic === "chat")
        .map((f) => f.seq),
    ).toEqual(after(truth("chat"), again));
    expect(
      durableOf(client)
        .filter((f) => f.topic === "relay")
        .map((f) => f.seq),
    ).toEqual(after(truth("relay"), since));
    expect(control(client)).toEqual([]);
    client.close();
  });

  it("closes a socket that stops reading during a merged replay with 4008 after a prefix of it; its last seq resumes the rest", async () => {
    // ~6 MB of relay between the chat entries: far past the loopback buffers and the 64 KiB limit.
    await w.relay();
    const [since] = await w.chat();
    for (let i = 0; i < 100; i++) {
      await w.chat(4);
      await w.relay(1, 60_000);
    }
    const merged = () => sorted([...after(truth("chat"), since!), ...after(truth("relay"), since!)]);
    const sockets = await openSockets();
    const { sock, rest } = await pausedWebSocket(app.port, `/ws?topics=chat,relay,cron&since=${since}`);
    w.flood();
    await until(async () => (await openSockets()) <= sockets, { message: "the stalled socket to be closed", timeoutMs: 20_000 });
    await w.stop();
    const bytes: Buffer[] = [rest];
    sock.on("data", (chunk: Buffer) => bytes.push(chunk));
    const ended = new Promise<void>((resolve) => sock.on("close", () => resolve()));
    sock.resume();
    await ended;
    const { frames } = serverFrames(Buffer.concat(bytes));
    const close = frames.find((f) => f.op === 0x8);
    expect(close && closeCode(close)).toBe(4008);
    const got = frames.filter((f) => f.op === 0x1).map((f) => JSON.parse(String(f.payload)));
    const seqs = got.filter(isDurable).map((f) => f.seq as string);
    expect(got.filter((f) => f.op !== undefined)).toEqual([]);
    expect(seqs.length).toBeGreaterThan(0);
    expect(seqs.length).toBeLessThan(merged().length);
    expect(seqs).toEqual(merged().slice(0, seqs.length));

    const resumed = connect(`/ws?topics=chat,relay,cron&since=${seqs.at(-1)}`);
    const [lastChat] = await w.chat();
    await seen(resumed, (f) => f.topic === "chat" && f.seq === lastChat, 15_000);
    expect(durableOf(resumed).map((f) => f.seq)).toEqual(after(merged(), seqs.at(-1)!));
    expect(control(resumed)).toEqual([]);
    resumed.close();
    sock.destroy();
  });

  for (const [what, since] of [
    ["another epoch", () => "1-1"],
    ["the future", () => `${Date.now() + 3_600_000}-3`],
  ] as const) {
    it(`answers a merged resume from ${what} with recovered:false on each topic, then delivers every live entry`, async () => {
      await w.chat();
      await w.relay();
      const client = connect(`/ws?topics=chat,relay,cron&since=${since()}`);
      await client.collect(2, (f) => f.op === "recovered" && f.recovered === false && (f.topic === "chat" || f.topic === "relay"));
      // Told to reload, and a tick: the client is live now; everything from here on must arrive.
      await client.next((f) => f.topic === "cron" && f.op === undefined, 5000);
      const from = client.frames.length;
      const live = [...(await w.chat(2)), ...(await w.relay(2)), ...(await w.chat())];
      await seen(client, (f) => f.topic === "chat" && f.seq === live.at(-1), 5000);
      expect(durableOf(client, from).map((f) => f.seq)).toEqual(sorted(live));
      // Each topic said so once, before any of its frames.
      for (const topic of ["chat", "relay"]) {
        const told = client.frames.findIndex((f: any) => f.op === "recovered" && f.topic === topic);
        expect(client.frames.filter((f: any) => f.op === "recovered" && f.topic === topic)).toHaveLength(1);
        expect(client.frames.slice(0, told).some((f: any) => isDurable(f) && f.topic === topic)).toBe(false);
      }
      client.close();
    });
  }
});
