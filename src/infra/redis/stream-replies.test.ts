import { describe, expect, it } from "bun:test";
import { inIdOrder, type RawEntry } from "./stream-replies.ts";

const entry = (id: string): RawEntry => [id, ["d", "{}"]];
const keys = ["p:chat", "p:relay"];
const topics = ["chat", "relay"];

describe("inIdOrder (the tailer's batch)", () => {
  it("orders one read's entries by id across streams", () => {
    const reply: [string, RawEntry[]][] = [
      ["p:chat", [entry("1-1"), entry("3-1")]],
      ["p:relay", [entry("2-1"), entry("4-1")]],
    ];
    expect(inIdOrder(reply, keys, topics, 10).map(([t, e]) => `${t} ${e[0]}`)).toEqual(["chat 1-1", "relay 2-1", "chat 3-1", "relay 4-1"]);
  });

  it("stops at the last entry of a stream cut off by COUNT: its unread entries may be older than another stream's", () => {
    // chat returned COUNT (3) entries and has more after 3-1; relay's 5-1 must wait for them.
    const reply: [string, RawEntry[]][] = [
      ["p:chat", [entry("1-1"), entry("2-1"), entry("3-1")]],
      ["p:relay", [entry("2-5"), entry("5-1")]],
    ];
    expect(inIdOrder(reply, keys, topics, 3).map(([t, e]) => `${t} ${e[0]}`)).toEqual(["chat 1-1", "chat 2-1", "relay 2-5", "chat 3-1"]);
    // A single stream needs no cut, and nor does a read that filled no stream.
    expect(inIdOrder([["p:chat", [entry("1-1"), entry("2-1"), entry("3-1")]]], keys, topics, 3)).toHaveLength(3);
    expect(inIdOrder(reply, keys, topics, 4)).toHaveLength(5);
  });
});
