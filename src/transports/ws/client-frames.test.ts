import { describe, expect, it } from "bun:test";
import { MAX_FRAME_CHARS, MAX_FRAME_DEPTH, parseClientFrame } from "./client-frames.ts";

const nested = (depth: number) => `{"op":"ping","pad":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;

describe("parseClientFrame", () => {
  it("parses a JSON object", () => {
    expect(parseClientFrame('{"op":"ping","ref":1}')).toEqual({ value: { op: "ping", ref: 1 } });
  });

  it("refuses nesting deeper than the limit before parsing it, counting only brackets outside strings", () => {
    expect(parseClientFrame(nested(MAX_FRAME_DEPTH))).toHaveProperty("value");
    expect(parseClientFrame(nested(MAX_FRAME_DEPTH + 1))).toEqual({ error: `frame nests arrays or objects deeper than ${MAX_FRAME_DEPTH}` });
    const inString = `{"op":"ping","pad":"${"[{".repeat(200)}\\"${"[".repeat(200)}"}`;
    expect(parseClientFrame(inString)).toHaveProperty("value");
  });

  it("refuses a frame over 64 KiB and an envelope before parsing it", () => {
    const frame = (n: number) => `{"op":"ping","pad":"${"x".repeat(n - 22)}"}`;
    expect(frame(MAX_FRAME_CHARS).length).toBe(MAX_FRAME_CHARS);
    expect(parseClientFrame(frame(MAX_FRAME_CHARS))).toHaveProperty("value");
    expect(parseClientFrame(frame(MAX_FRAME_CHARS + 1))).toEqual({ error: `frame is over ${MAX_FRAME_CHARS} characters` });
  });
});
