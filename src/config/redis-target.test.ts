import { describe, expect, it } from "bun:test";
import { loadConfig, redisTarget } from "./index.ts";

describe("redis target", () => {
  it("is none without Redis, and a single server for REDIS_URL or REDIS_ADDR", () => {
    expect(redisTarget(loadConfig({}))).toBeUndefined();
    expect(redisTarget(loadConfig({ REDIS_ADDR: "cache:6380" }))).toEqual({ mode: "single", url: "redis://cache:6380" });
  });

  it("reads REDIS_SENTINEL as a master name and sentinel addresses, with the data nodes' credentials", () => {
    const c = loadConfig({ REDIS_SENTINEL: "tw@s1:26379,10.0.0.2:26380", REDIS_USERNAME: "app", REDIS_PASSWORD: "pw" });
    expect(redisTarget(c)).toEqual({
      mode: "sentinel",
      master: "tw",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "10.0.0.2", port: 26380 },
      ],
      username: "app",
      password: "pw",
    });
  });

  it("reads REDIS_CLUSTER as seed nodes", () => {
    expect(redisTarget(loadConfig({ REDIS_CLUSTER: "n1:7000,n2:7001" }))).toEqual({
      mode: "cluster",
      seeds: [
        { host: "n1", port: 7000 },
        { host: "n2", port: 7001 },
      ],
    });
  });

  it("refuses malformed values and more than one kind of Redis, naming the variables", () => {
    expect(() => loadConfig({ REDIS_SENTINEL: "s1:26379" })).toThrow(/REDIS_SENTINEL="s1:26379": expected <master name>@host:port/);
    expect(() => loadConfig({ REDIS_CLUSTER: "n1" })).toThrow(/REDIS_CLUSTER/);
    expect(() => loadConfig({ REDIS_URL: "redis://a:6379", REDIS_CLUSTER: "n1:7000" })).toThrow(/at most one of REDIS_URL .* REDIS_CLUSTER/);
    expect(() => loadConfig({ REDIS_SENTINEL: "tw@s:1", REDIS_CLUSTER: "n1:7000" })).toThrow(/REDIS_CLUSTER/);
    // An empty REDIS_URL is unset (compose overrides use it).
    expect(redisTarget(loadConfig({ REDIS_URL: "", REDIS_CLUSTER: "n1:7000" }))?.mode).toBe("cluster");
    expect(() => loadConfig({ REDIS_MIN_REPLICAS: "-1" })).toThrow(/REDIS_MIN_REPLICAS/);
    expect(loadConfig({ REDIS_MIN_REPLICAS: "2" }).redisMinReplicas).toBe(2);
  });
});
