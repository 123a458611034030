import { describe, expect, it } from "bun:test";
import { keyspaceOf } from "./keyspace.ts";

describe("keyspaceOf", () => {
  it("keeps the plain prefix outside Cluster mode (key names unchanged)", () => {
    expect(keyspaceOf("tickwire", "single")).toEqual({ log: "tickwire", hot: "tickwire", presence: "tickwire" });
    expect(keyspaceOf("tickwire", "sentinel")).toEqual({ log: "tickwire", hot: "tickwire", presence: "tickwire" });
  });

  it("gives each group of keys touched together its own hash tag in Cluster mode", () => {
    expect(keyspaceOf("tickwire", "cluster")).toEqual({ log: "{tickwire}", hot: "{tickwire:hot}", presence: "{tickwire:presence}" });
  });
});
