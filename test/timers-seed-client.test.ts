/**
 * A client written only from the timer-microservice seed README (its paths, bodies and the
 * `{"type","payload"}` WebSocket message structure; nothing tickwire added), run unchanged
 * against tickwire in both storage modes.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer } from "./support/server.ts";
import { until } from "./support/until.ts";
import { ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

/** README "Create Timer" response. */
interface SeedTimer {
  id: number;
  sessionId: string;
  currentTime: number;
  maxTime: number;
  isPaused: boolean;
}

/** README "WebSocket Message Structure". */
interface SeedMessage {
  type: string;
  payload: any;
}

/** What a game master tool built from the README would contain. */
class SeedTimerClient {
  constructor(private readonly baseUrl: string) {}

  async createTimer(sessionId: string, maxTime: number): Promise<SeedTimer> {
    const res = await fetch(`${this.baseUrl}/timer`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sessionId, maxTime }),
    });
    if (!res.ok) throw new Error(`create failed: ${res.status}`);
    return res.json() as Promise<SeedTimer>;
  }

  pauseTimer(id: number): Promise<SeedTimer> {
    return this.#put(`/timer/${id}/pause`);
  }

  resumeTimer(id: number): Promise<SeedTimer> {
    return this.#put(`/timer/${id}/resume`);
  }

  modifyTimer(id: number, maxTime: number): Promise<SeedTimer> {
    return this.#put(`/timer/${id}/modify`, { maxTime });
  }

  stopTimer(id: number): Promise<{ message: string }> {
    return this.#put(`/timer/${id}/stop`);
  }

  /** Customer WebSocket: real-time updates for one session's timer. */
  customer(sessionId: string): SeedSocket {
    return new SeedSocket(`${this.baseUrl.replace(/^http/, "ws")}/ws/customer/${sessionId}`);
  }

  /** Game master WebSocket: real-time updates for all active timers. */
  gameMaster(sessionId: string): SeedSocket {
    return new SeedSocket(`${this.baseUrl.replace(/^http/, "ws")}/ws/gamemaster/${sessionId}`);
  }

  async #put<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method: "PUT",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${path} failed: ${res.status}`);
    return res.json() as Promise<T>;
  }
}

/** A socket that keeps the `{type, payload}` messages it receives. */
class SeedSocket {
  readonly messages: SeedMessage[] = [];
  readonly #ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.#ws = new WebSocket(url);
    this.opened = new Promise((resolve) => (this.#ws.onopen = () => resolve()));
    this.#ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (typeof msg.type === "string" && "payload" in msg) this.messages.push({ type: msg.type, payload: msg.payload });
    };
  }

  send(message: SeedMessage): void {
    this.#ws.send(JSON.stringify(message));
  }

  close(): void {
    this.#ws.close();
  }
}

/** The first message `socket` received that matches `match`, once there is one. */
const firstMessage = (socket: SeedSocket, match: (m: SeedMessage) => boolean) =>
  until(() => socket.messages.find(match), { message: () => `a matching message; got ${socket.messages.map((m) => m.type).join(",")}` });

describe.each(MODES)("seed timer client, unchanged ($name)", (mode) => {
  let app: Tickwire;
  let database: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  beforeAll(async () => {
    if (mode.name === "mysql+redis") database = await ownDatabase("seed");
    app = await startServer(timersEnv(mode, uniquePrefix("seed"), database?.url));
  });
  afterAll(async () => {
    await app.stop();
    await database?.drop();
  });

  it("creates, pauses, resumes, modifies and stops a timer over REST while the customer watches", async () => {
    const client = new SeedTimerClient(app.url);
    const session = uniquePrefix("room");
    const customer = client.customer(session);
    await customer.opened;

    const timer = await client.createTimer(session, 300);
    expect(typeof timer.id).toBe("number");
    expect(timer).toMatchObject({ sessionId: session, currentTime: 0, maxTime: 300, isPaused: false });

    const update = await firstMessage(customer, (m) => m.type === "TIMER_UPDATE" && m.payload.id === timer.id);
    expect(update.payload).toMatchObject({ id: timer.id, sessionId: session, maxTime: 300, isPaused: false });
    expect(typeof update.payload.currentTime).toBe("number");

    expect((await client.pauseTimer(timer.id)).isPaused).toBe(true);
    await firstMessage(customer, (m) => m.type === "TIMER_PAUSE" && m.payload.isPaused === true);
    expect((await client.resumeTimer(timer.id)).isPaused).toBe(false);
    await firstMessage(customer, (m) => m.type === "TIMER_RESUME");
    expect((await client.modifyTimer(timer.id, 900)).maxTime).toBe(900);
    await firstMessage(customer, (m) => m.type === "TIMER_MODIFY" && m.payload.maxTime === 900);
    expect(await client.stopTimer(timer.id)).toEqual({ message: "Timer stopped and deleted" });
    await firstMessage(customer, (m) => m.type === "TIMER_STOP" && m.payload.id === timer.id);
    customer.close();
  });

  it("drives timers from the game master socket and sees every timer's updates there", async () => {
    const client = new SeedTimerClient(app.url);
    const session = uniquePrefix("gm");
    const gm = client.gameMaster(session);
    await gm.opened;
    gm.send({ type: "TIMER_CREATE", payload: { sessionId: session, maxTime: 120 } });
    const created = await firstMessage(gm, (m) => m.type === "TIMER_CREATE" && m.payload.sessionId === session);
    const id: number = created.payload.id;
    await firstMessage(gm, (m) => m.type === "TIMER_UPDATE" && m.payload.id === id);

    gm.send({ type: "TIMER_PAUSE", payload: { id } });
    await firstMessage(gm, (m) => m.type === "TIMER_PAUSE" && m.payload.id === id && m.payload.isPaused === true);
    gm.send({ type: "TIMER_RESUME", payload: { id } });
    await firstMessage(gm, (m) => m.type === "TIMER_RESUME" && m.payload.id === id && m.payload.isPaused === false);
    gm.send({ type: "TIMER_MODIFY", payload: { id, maxTime: 240 } });
    await firstMessage(gm, (m) => m.type === "TIMER_MODIFY" && m.payload.id === id && m.payload.maxTime === 240);

    // A timer created over REST by someone else shows up on the game master socket too.
    const other = await client.createTimer(uniquePrefix("other-room"), 60);
    await firstMessage(gm, (m) => m.type === "TIMER_UPDATE" && m.payload.id === other.id);

    gm.send({ type: "TIMER_STOP", payload: { id } });
    await firstMessage(gm, (m) => m.type === "TIMER_STOP" && m.payload.id === id);
    await client.stopTimer(other.id);
    gm.close();
  });
});
