/**
 * The tick marks every instance shares (`core/tick-marks.ts`): one hash per tick,
 * `<prefix>:tickmark:<tick ms>`, holding per durable root the oldest seq any instance had
 * delivered when it sent that tick. One script call per tick per instance; one `HMGET` per
 * resume from a tick's seq. Each hash expires after the marks' retention.
 * @module
 */
import type { SharedTickMarks, TickMark } from "../../core/tick-marks.ts";
import type { Redis } from "./client.ts";

/** Per field pair, keeps the older of the stored seq and the given one (`<ms>-<n>`, compared as numbers). */
const PUT_OLDEST = `
local function older(a, b)
  local am, an = string.match(a, '^(%d+)-(%d+)$')
  local bm, bn = string.match(b, '^(%d+)-(%d+)$')
  if not am or not bm then return false end
  am, an, bm, bn = tonumber(am), tonumber(an), tonumber(bm), tonumber(bn)
  return am < bm or (am == bm and an < bn)
end
for i = 2, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or older(ARGV[i + 1], current) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

/** How long a resume from a tick's seq waits for the shared marks. */
export const GET_WAIT_MS = 250;

export class RedisTickMarks implements SharedTickMarks {
  #client: Redis;
  #prefix: string;
  #roots: readonly string[];
  #ttlMs: number;

  /** @param ttlMs how long a tick's mark is kept (the marks' retention: ticks kept × period). */
  constructor(client: Redis, prefix: string, roots: readonly string[], ttlMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#roots = roots;
    this.#ttlMs = Math.max(1000, Math.floor(ttlMs));
  }

  async put(tickAt: number, mark: TickMark): Promise<void> {
    const pairs = Object.entries(mark).flat();
    if (pairs.length === 0) return;
    await this.#client.sendCommand(["EVAL", PUT_OLDEST, "1", this.#key(tickAt), String(this.#ttlMs), ...pairs]);
  }

  /** Rejects after {@link GET_WAIT_MS}: a stalled Redis must not hold every resume from a tick (they use this instance's marks then). */
  async get(tickAt: number): Promise<TickMark | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis: no tick mark answer within ${GET_WAIT_MS} ms`)), GET_WAIT_MS);
    });
    const values = await Promise.race([this.#client.sendCommand<(string | null)[]>(["HMGET", this.#key(tickAt), ...this.#roots]), late]).finally(() =>
      clearTimeout(timer),
    );
    const mark: Record<string, string> = {};
    this.#roots.forEach((root, i) => {
      const seq = values?.[i];
      if (typeof seq === "string") mark[root] = seq;
    });
    return Object.keys(mark).length ? mark : undefined;
  }

  #key(tickAt: number): string {
    return `${this.#prefix}:tickmark:${Math.floor(tickAt)}`;
  }
}
