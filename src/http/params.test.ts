import { describe, expect, it } from "bun:test";
import { HttpError } from "./errors.ts";
import { parseSince, splitTopics, topicsParam } from "./params.ts";

const fieldOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof HttpError ? [error.status, error.field] : error;
  }
  return undefined;
};

describe("shared parameters", () => {
  it("parses since: absent or empty is no resume, a seq is kept, anything else is a 400 naming the field", () => {
    expect(parseSince(null)).toBeUndefined();
    expect(parseSince("")).toBeUndefined();
    expect(parseSince("1700000000000-3")).toBe("1700000000000-3");
    expect(fieldOf(() => parseSince("yesterday", "Last-Event-ID"))).toEqual([400, "Last-Event-ID"]);
  });

  it("splits topics trimmed, without empties or duplicates, in order", () => {
    expect(splitTopics(" chat, relay,,chat ")).toEqual(["chat", "relay"]);
  });

  it("accepts up to the limit of valid topic names: a bad name is a 400, one past the limit a 429, both on topics", () => {
    expect(topicsParam(null, "chat")).toEqual(["chat"]);
    expect(fieldOf(() => topicsParam("chat,bad topic", "chat"))).toEqual([400, "topics"]);
    const names = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`).join(",");
    expect(topicsParam(names(128), "chat")).toHaveLength(128);
    expect(fieldOf(() => topicsParam(names(129), "chat"))).toEqual([429, "topics"]);
    expect(fieldOf(() => topicsParam(names(5), "chat", 4))).toEqual([429, "topics"]);
  });
});
