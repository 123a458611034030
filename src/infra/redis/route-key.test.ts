import { describe, expect, it } from "bun:test";
import { hashSlot, routeKey } from "./route-key.ts";

describe("routeKey (Cluster routing)", () => {
  it("routes scripts by their first key, reads by their first stream, other commands by their first argument", () => {
    expect(routeKey(["EVAL", "return 1", "2", "{tw}:chat", "{tw}:epoch:chat", "x"])).toBe("{tw}:chat");
    expect(routeKey(["EVAL", "return 1", "0"])).toBeUndefined();
    expect(routeKey(["XREAD", "COUNT", "10", "BLOCK", "2000", "STREAMS", "{tw}:chat", "{tw}:relay", "0-0", "0-0"])).toBe("{tw}:chat");
    expect(routeKey(["XINFO", "STREAM", "{tw}:chat"])).toBe("{tw}:chat");
    expect(routeKey(["HGETALL", "{tw:hot}:hot:timer:1"])).toBe("{tw:hot}:hot:timer:1");
  });

  it("leaves keyless commands to any node (WAIT is routed by the caller)", () => {
    for (const command of [["PING"], ["INFO", "persistence"], ["CONFIG", "GET", "appendonly"], ["TIME"], ["WAIT", "1", "100"]]) {
      expect(routeKey(command)).toBeUndefined();
    }
  });

  it("computes Cluster hash slots as Redis does, hash tags included", () => {
    // Values from Redis's CLUSTER KEYSLOT documentation, and the CRC16/XMODEM check value.
    expect(hashSlot("somekey")).toBe(11058);
    expect(hashSlot("foo{hash_tag}")).toBe(2515);
    expect(hashSlot("123456789")).toBe(0x31c3);
    expect(hashSlot("{tw}:chat")).toBe(hashSlot("{tw}:epoch:relay"));
    expect(hashSlot("a{}b")).toBe(hashSlot("a{}b")); // an empty tag hashes the whole key
  });
});
