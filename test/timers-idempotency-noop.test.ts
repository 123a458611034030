/**
 * A keyed change that changes nothing (a pause of a paused timer, a resume of a running one)
 * stores its answer too (found 2026-12-04, fixed 2026-12-04). Before, it stored none: a retry
 * with the key, sent after someone else's resume, paused the timer again, so one request
 * changed the timer twice and its two answers differed.
 */
import { afterAll, describe, expect, it } from "bun:test";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer } from "./support/server.ts";
import { ownDatabase, timersEnv, uniquePrefix } from "./timers-support.ts";

describe.each(MODES)("a keyed no-op change ($name)", (mode) => {
  let app: Tickwire | undefined;
  let own: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  afterAll(async () => {
    await app?.stop();
    await own?.drop();
  });

  it("is answered again on retry after another change, and the retry changes nothing", async () => {
    own = mode.name === "embedded" ? undefined : await ownDatabase("idemnoop");
    app = await startServer(timersEnv(mode, uniquePrefix("idemnoop"), own?.url));
    const call = async (method: string, path: string, key?: string, body?: unknown) => {
      const res = await fetch(app!.url + path, {
        method,
        headers: { "Content-Type": "application/json", ...(key ? { "Idempotency-Key": key } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, replayed: res.headers.get("idempotent-replayed"), body: (await res.json()) as any };
    };
    const { body: timer } = await call("POST", "/timer", undefined, { sessionId: "noop", maxTime: 600 });
    expect((await call("PUT", `/timer/${timer.id}/pause`)).status).toBe(200);
    const first = await call("PUT", `/timer/${timer.id}/pause`, "P-1"); // already paused: nothing to write
    expect(first).toMatchObject({ status: 200, replayed: null });
    expect((await call("PUT", `/timer/${timer.id}/resume`)).body.status).toBe("running"); // someone else's
    const retry = await call("PUT", `/timer/${timer.id}/pause`, "P-1");
    expect(retry).toMatchObject({ status: 200, replayed: "true", body: first.body });
    const now = await call("GET", `/timer/${timer.id}`);
    expect(now.body.status).toBe("running");
  });
});
