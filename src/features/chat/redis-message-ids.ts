/**
 * The chat id counter every instance on one Redis shares: `<prefix>:chat:last-id` holds the newest
 * id issued (µs); a claim sets it to `max(wanted, last + 1)` in one atomic script. Microseconds
 * (about 1.8e15) are exact in Lua's doubles; `%.0f` writes them whole (Lua's default format keeps
 * 14 digits). Claims waiting for Redis are bounded like appends (the log's in-flight limit):
 * past it a post answers 503 `overloaded`.
 * @module
 */
import type { Config } from "../../config/index.ts";
import { LogUnavailableError } from "../../core/topic-log.ts";
import { defaultMaxInFlight } from "../../infra/redis/append-script.ts";
import type { Redis } from "../../infra/redis/client.ts";
import type { SharedIdCounter } from "./message-ids.ts";

const CLAIM = `local last = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local want = tonumber(ARGV[1])
if want <= last then want = last + 1 end
redis.call('SET', KEYS[1], string.format('%.0f', want))
return string.format('%.0f', want)`;

export class RedisMessageIds implements SharedIdCounter {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #max: number;
  #inFlight = 0;

  /** `keyPrefix`: the topic log's (`<prefix>`, or `{<prefix>}` in Cluster mode, so the counter shares the logs' slot). */
  constructor(redis: Redis, config: Pick<Config, "historySize">, keyPrefix: string) {
    this.#redis = redis;
    this.#key = `${keyPrefix}:chat:last-id`;
    this.#max = defaultMaxInFlight(config.historySize);
  }

  async claim(atLeast: number): Promise<number> {
    if (this.#inFlight >= this.#max) throw new LogUnavailableError(`chat id claims full (${this.#max} waiting for redis); retry shortly`, "overloaded");
    this.#inFlight++;
    try {
      return Number(await this.#redis.sendCommand<string>(["EVAL", CLAIM, "1", this.#key, String(atLeast)]));
    } catch (error) {
      // As an append to a Redis that is down: 503 with Retry-After.
      throw new LogUnavailableError(`chat: no message id, redis unavailable (${String(error)})`, "unavailable", { cause: error });
    } finally {
      this.#inFlight--;
    }
  }
}
