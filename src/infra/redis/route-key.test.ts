import { describe, expect, it } from "bun:test";
import { routeKey } from "./route-key.ts";

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
});
