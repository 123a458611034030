/**
 * Holds a Redis topic log's tailer: its `XREAD` replies wait behind a gate while it is closed, so
 * a test decides when an instance's tail moves (the other paths, appends and reads, go on).
 */
import type { Redis } from "../../src/infra/redis/client.ts";

export interface TailGate {
  close(): void;
  open(): void;
}

/** Wraps the tail connection the log will duplicate from `client` so that a test can hold it. */
export function gateTailOf(client: Redis): TailGate {
  let gate = Promise.resolve();
  let release = () => {};
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (async (options: Parameters<Redis["duplicate"]>[0]) => {
    const tail = await duplicate(options);
    const send = tail.sendCommand.bind(tail);
    tail.sendCommand = (async (args: string[], route?: string) => {
      const reply = await send(args, route);
      if (args[0] === "XREAD") await gate;
      return reply;
    }) as Redis["sendCommand"];
    return tail;
  }) as Redis["duplicate"];
  return {
    close: () => {
      gate = new Promise((resolve) => (release = resolve));
    },
    open: () => release(),
  };
}
