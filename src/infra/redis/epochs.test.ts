/**
 * `EpochWatch.refresh` against the machine's Redis (keys under a prefix of their own): a topic's
 * first epoch (its first entry ever) replaces nothing; a renewed or vanished one does.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { REDIS_URL, uniquePrefix } from "../../../test/support/server.ts";
import { silentLogger } from "../../log.ts";
import { connectRedis, type Redis } from "./client.ts";
import { EpochWatch, epochKey } from "./epochs.ts";

describe("EpochWatch.refresh", () => {
  const prefix = uniquePrefix("epochs");
  let client: Redis;
  beforeAll(async () => {
    client = await connectRedis({ url: REDIS_URL, log: silentLogger, name: "epochs-test" });
  });
  afterAll(async () => {
    await client.sendCommand(["DEL", epochKey(prefix, "chat")]);
    client.destroy();
  });

  it("reports a changed or vanished epoch as replaced, never a topic's first one", async () => {
    const watch = new EpochWatch(client, prefix);
    const set = (value: string) => client.sendCommand(["SET", epochKey(prefix, "chat"), value]);
    expect(await watch.refresh(["chat"])).toEqual([]); // none yet
    await set("e1 1000-0");
    expect(await watch.refresh(["chat"])).toEqual([]); // the first entry's: nothing was replaced
    expect(watch.get("chat")).toEqual({ id: "e1", start: "1000-0" });
    await set("e2 2000-0");
    expect(await watch.refresh(["chat"])).toEqual(["chat"]);
    await client.sendCommand(["DEL", epochKey(prefix, "chat")]);
    expect(await watch.refresh(["chat"])).toEqual(["chat"]); // Redis came back empty
    await set("e3 3000-0");
    expect(await watch.refresh(["chat"])).toEqual([]); // reported when it vanished
  });

  it("keeps an epoch the tailer saw while a refresh's read was out, instead of the read's older answer", async () => {
    const watch = new EpochWatch(client, prefix);
    const set = (value: string) => client.sendCommand(["SET", epochKey(prefix, "chat"), value]);
    await set("e1 1000-0");
    await watch.refresh(["chat"]);
    // The read goes out while the key still says e1; the tailer meanwhile gets an entry of e2.
    const reading = watch.refresh(["chat"]);
    expect(watch.seen("chat", "e2", "2000-1")).toBe(true);
    expect(await reading).toEqual([]);
    expect(watch.get("chat")?.id).toBe("e2");
    await set("e2 2000-0");
    // Not a replacement: this instance already knew e2 (it would reset healthy subscribers).
    expect(await watch.refresh(["chat"])).toEqual([]);
  });
});
