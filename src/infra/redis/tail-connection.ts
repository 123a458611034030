/**
 * The topic log tailer's own connection: `XREAD BLOCK` holds a connection for its block time,
 * so it gets a dedicated one (a command timeout past the block), and its outages are logged
 * once each.
 * @module
 */
import type { Logger } from "../../log.ts";
import type { Redis } from "./client.ts";

export interface TailConnectionOptions {
  /** The command connection it is a copy of. */
  client: Redis;
  name: string;
  blockMs: number;
  log: Logger;
  /** Called on every connection error (the tailer is not up until it reads again). */
  onDown: () => void;
  stopping: () => boolean;
}

export async function openTailConnection({ client, name, blockMs, log, onDown, stopping }: TailConnectionOptions): Promise<Redis> {
  let down = false;
  const tail = await client.duplicate({
    name,
    commandTimeoutMs: blockMs + 3000,
    onError: (err) => {
      if (!down && !stopping()) log.warn({ err: err.message, redis: "tailer" }, "redis tailer connection error; reconnecting");
      down = true;
      onDown();
    },
  });
  tail.on("ready", () => {
    down = false;
  });
  return tail;
}
