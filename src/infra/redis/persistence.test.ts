/**
 * `redisPersistence` and `persistenceWarning` against DEDICATED redis-servers on ports of their
 * own (never the shared Redis on 6379, whose config is left alone): one keeping nothing on disk,
 * one with an append-only file fsynced on every write (its settings then changed with CONFIG SET
 * to the weaker ones), and one whose CONFIG is denied by ACL, as managed services do.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { DedicatedRedis } from "../../../test/support/dedicated-redis.ts";
import { silentLogger } from "../../log.ts";
import { connectRedis, type Redis } from "./client.ts";
import { keepsEveryAck, persistenceWarning, redisPersistence } from "./persistence.ts";

async function connect(url: string): Promise<Redis> {
  return connectRedis({ url, log: silentLogger, name: "tickwire-persistence-test" });
}

describe("redisPersistence against a Redis that keeps nothing on disk", () => {
  const redis = new DedicatedRedis(); // --save "" --appendonly no
  let client: Redis;
  beforeAll(async () => {
    await redis.start();
    client = await connect(redis.url);
  });
  afterAll(async () => {
    client?.destroy();
    await redis.dispose();
  });

  it("reports no AOF and no RDB, and warns that acknowledged messages are lost on restart", async () => {
    const p = await redisPersistence(client);
    expect(p).toMatchObject({ known: true, aof: false, fsync: undefined, rdb: false, save: "" });
    expect(p.summary).toBe("no AOF; no RDB snapshots");
    expect(keepsEveryAck(p)).toBe(false);
    expect(persistenceWarning(p)).toBe('Redis keeps nothing on disk (appendonly no, save ""): acknowledged messages are lost if Redis restarts');
  });
});

describe("redisPersistence against a Redis with an append-only file", () => {
  const redis = new DedicatedRedis(undefined, { persistent: true }); // --appendonly yes --appendfsync always, in a temp dir
  let client: Redis;
  beforeAll(async () => {
    await redis.start();
    client = await connect(redis.url);
  });
  afterAll(async () => {
    client?.destroy();
    await redis.dispose();
  });

  it("with appendfsync always: every acknowledged message survives, no warning", async () => {
    const p = await redisPersistence(client);
    expect(p).toMatchObject({ known: true, aof: true, fsync: "always", rdb: false });
    expect(p.summary).toBe("AOF, appendfsync always; no RDB snapshots");
    expect(keepsEveryAck(p)).toBe(true);
    expect(persistenceWarning(p)).toBeUndefined();
  });

  // The settings below are changed on this dedicated server only (its data dir is a temp folder).
  it("with appendfsync everysec: warns of up to ~1 s lost", async () => {
    expect(await redis.cli("CONFIG", "SET", "appendfsync", "everysec")).toBe("OK");
    const p = await redisPersistence(client);
    expect(p).toMatchObject({ known: true, aof: true, fsync: "everysec", rdb: false });
    expect(keepsEveryAck(p)).toBe(false);
    expect(persistenceWarning(p)).toContain("up to ~1 s of acknowledged messages are lost");
  });

  it("with appendfsync no: warns that what the OS has not flushed is lost", async () => {
    expect(await redis.cli("CONFIG", "SET", "appendfsync", "no")).toBe("OK");
    const p = await redisPersistence(client);
    expect(p).toMatchObject({ known: true, aof: true, fsync: "no" });
    expect(keepsEveryAck(p)).toBe(false);
    expect(persistenceWarning(p)).toContain("(appendfsync no)");
  });

  it("with RDB snapshots only: warns that messages since the last snapshot are lost", async () => {
    expect(await redis.cli("CONFIG", "SET", "appendonly", "no")).toBe("OK");
    expect(await redis.cli("CONFIG", "SET", "save", "3600 1 300 100")).toBe("OK");
    const p = await redisPersistence(client);
    expect(p).toMatchObject({ known: true, aof: false, fsync: undefined, rdb: true, save: "3600 1 300 100" });
    expect(p.summary).toBe("no AOF; RDB snapshots (save 3600 1 300 100)");
    expect(keepsEveryAck(p)).toBe(false);
    expect(persistenceWarning(p)).toBe(
      "Redis keeps only RDB snapshots (save 3600 1 300 100): acknowledged messages since the last snapshot are lost if Redis crashes or restarts",
    );
  });
});

describe("redisPersistence when CONFIG is refused (as on managed Redis)", () => {
  const redis = new DedicatedRedis();
  let client: Redis;
  beforeAll(async () => {
    await redis.start();
    expect(await redis.cli("ACL", "SETUSER", "limited", "on", ">limited-pw", "~*", "&*", "+@all", "-config")).toBe("OK");
    client = await connect(`redis://limited:limited-pw@127.0.0.1:${redis.port}`);
  });
  afterAll(async () => {
    client?.destroy();
    await redis.dispose();
  });

  it("resolves to an unknown result with the reason, and warns that messages can be lost", async () => {
    expect(await client.sendCommand(["PING"])).toBe("PONG");
    const p = await redisPersistence(client);
    expect(p.known).toBe(false);
    if (p.known) return;
    expect(p.reason).toMatch(/NOPERM/);
    expect(p.summary).toStartWith("unknown (CONFIG GET failed: ");
    expect(keepsEveryAck(p)).toBe(false);
    expect(persistenceWarning(p)).toStartWith("Redis persistence is unknown (");
    expect(persistenceWarning(p)).toContain("acknowledged messages can be lost if Redis restarts");
  });
});
