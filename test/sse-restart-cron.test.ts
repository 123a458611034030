/**
 * An embedded server with a file database restarts; a `chat,cron` SSE stream resumes from the id
 * of a tick it got before. `cron` has no log: the resume has nothing to replay there and nothing
 * it could have lost, so it must not be told `recovered:false` (the SQLite log answered so for a
 * topic it never stored, since any offset predates its opening). Chat gets what came after.
 */
import { afterAll, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildServer, spawnServer } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { until } from "./support/until.ts";

const children: ChildServer[] = [];
const dir = mkdtempSync(join(tmpdir(), "rev8-"));
afterAll(async () => {
  for (const c of children) {
    c.proc.kill(9);
    await c.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});
const post = async (s: ChildServer, content: string) => {
  const res = await fetch(`${s.url}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content }) });
  return ((await res.json()) as { seq: string }).seq;
};

it("a chat,cron stream resumed after an embedded (file) restart from a tick's id: nothing lost, no false recovered:false", async () => {
  const env = { DATABASE_URL: `sqlite:${join(dir, "t.db")}`, TICK_MS: "200" };
  const first = await spawnServer(env);
  children.push(first);
  await post(first, "m1");
  const stream = await sseClient(`${first.url}/events?topics=chat,cron`);
  const tick = await stream.next((e) => e.json?.topic === "cron", 5000);
  stream.close();
  first.proc.kill(9);
  await first.exited;
  const second = await spawnServer(env);
  children.push(second);
  const after = await post(second, "after restart");
  const resumed = await sseClient(`${second.url}/events?topics=chat,cron`, { "Last-Event-ID": tick.id! });
  await resumed.next((e) => e.json?.topic === "cron", 5000);
  await until(() => resumed.events.some((e) => e.id === after), { message: "the chat entry posted after the restart" });
  resumed.close();
  const got = resumed.events
    .filter((e) => e.event !== undefined || e.json?.topic === "chat")
    .map((e) => (e.event ? `${e.event} ${e.data}` : `${e.id} ${e.json.content}`));
  expect({ tickId: tick.id, got }).toEqual({ tickId: tick.id, got: [`${after} after restart`] });
});
