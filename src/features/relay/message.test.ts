import { describe, expect, it } from "bun:test";
import { MAX_RELAY_BYTES, messageOfFrame, relayMessageProblem } from "./message.ts";

describe("relay message limits", () => {
  it("accepts exactly 64 KiB of UTF-8 and refuses one byte more, counting bytes not characters", () => {
    expect(relayMessageProblem("a".repeat(MAX_RELAY_BYTES))).toBeUndefined();
    expect(relayMessageProblem("a".repeat(MAX_RELAY_BYTES + 1))).toContain("65537 bytes");
    expect(relayMessageProblem("€".repeat(MAX_RELAY_BYTES / 3))).toBeUndefined(); // 3 bytes each, 65535 bytes
    expect(relayMessageProblem("€".repeat(MAX_RELAY_BYTES / 3 + 1))).toContain("65538 bytes");
  });

  it("reads the message back out of a wrapped relay frame", () => {
    expect(messageOfFrame('{"topic":"relay","seq":"1-0","ts":1,"message":"hi \\"there\\""}')).toBe('hi "there"');
    expect(messageOfFrame('{"topic":"relay","seq":"1-0","ts":1}')).toBeUndefined();
  });
});
