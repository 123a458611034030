import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { startServer, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { wsClient } from "./support/ws-client.ts";

const TICK_MS = 50;
let app: Tickwire;

beforeAll(async () => {
  app = await startServer({ TICK_MS: String(TICK_MS) });
});
afterAll(() => app.stop());

describe("cron over WebSocket (the seed client)", () => {
  it("sends cron_tick frames on /ws with no message sent, exactly one period apart", async () => {
    const client = wsClient(wsUrl(app, "/ws"));
    const frames = await client.collect(4, (f) => f.event === "cron_tick");
    client.close();
    for (const f of frames) {
      expect(Object.keys(f).sort()).toEqual(["event", "message", "seq", "topic", "ts"]);
      expect(f.topic).toBe("cron");
      expect(new Date(f.message).toISOString()).toBe(f.message);
      expect(f.seq).toBe(`${f.ts}-0`);
    }
    const times = frames.map((f) => Date.parse(f.message));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // A skipped tick would show as a multiple of the period; on a quiet run all gaps are one period.
    expect(gaps.every((g) => g > 0 && g % TICK_MS === 0)).toBe(true);
    expect(times.every((t) => t % TICK_MS === 0)).toBe(true);
  });
});

describe("cron over SSE", () => {
  it("streams cron frames on /events?topics=cron with id = seq and a retry hint", async () => {
    const sse = await sseClient(`${app.url}/events?topics=cron`);
    expect(sse.response.headers.get("content-type")).toStartWith("text/event-stream");
    const [a, b] = await sse.collect(2);
    sse.close();
    expect(sse.comments[0]).toBe("connected");
    expect(sse.retry).toBe(3000);
    expect(a!.id).toBe(a!.json.seq);
    expect(a!.json).toMatchObject({ topic: "cron", event: "cron_tick" });
    expect(Date.parse(b!.json.message) - Date.parse(a!.json.message)).toBeGreaterThan(0);
  });
});
