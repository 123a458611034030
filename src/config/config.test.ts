import { describe, expect, it } from "bun:test";
import { ConfigError, databaseUrl, loadConfig, redisUrl } from "./index.ts";

describe("config", () => {
  it("applies the SPEC defaults when the environment is empty", () => {
    const c = loadConfig({});
    expect([c.port, c.host, c.appEnv, c.databaseUrl, c.tickMs, c.historySize, c.logLevel]).toEqual([
      8080,
      "0.0.0.0",
      "dev",
      "sqlite:./data/tickwire.db",
      1000,
      1000,
      "info",
    ]);
    expect(c.redisUrl).toBeUndefined();
    expect(c.jwtSecret).toBeUndefined();
  });

  it("names the variable, the value and the expectation in a bad value's error", () => {
    expect(() => loadConfig({ TICK_MS: "fast" })).toThrow('invalid config: TICK_MS="fast": expected an integer 10..3600000');
    expect(() => loadConfig({ PORT: "70000" })).toThrow(/PORT="70000"/);
    expect(() => loadConfig({ APP_ENV: "staging" })).toThrow(/APP_ENV="staging": expected one of dev, test, prod/);
    expect(() => loadConfig({ DATABASE_URL: "postgres://x" })).toThrow(/DATABASE_URL/);
  });

  it("refuses production without a JWT secret", () => {
    try {
      loadConfig({ APP_ENV: "prod" });
      throw new Error("should have thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variable).toBe("JWT_SECRET");
    }
  });

  it("accepts the seeds' aliases APP_PORT, REDIS_ADDR and DATABASE_DSN", () => {
    const c = loadConfig({ APP_PORT: "9000", REDIS_ADDR: "localhost:6379", DATABASE_DSN: "user:pw@tcp(db:3306)/timer_db?charset=utf8mb4&parseTime=True" });
    expect(c.port).toBe(9000);
    expect(redisUrl(c)).toBe("redis://localhost:6379");
    expect(databaseUrl(c)).toBe("mysql://user:pw@db:3306/timer_db");
  });
});
