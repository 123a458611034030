/**
 * Waiting for a node-redis connection to become ready again, as the topic log's tailer does
 * after an outage or a failed read.
 * @module
 */
import type { Redis } from "./client.ts";

/**
 * Resolves once `client` is ready (or `stopping()` turns true); at most `maxMs` when given.
 * With `maxMs` it waits for the `ready` event or the time, whichever comes first.
 */
export function waitReady(client: Redis, stopping: () => boolean, maxMs?: number): Promise<void> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
      client.off("ready", done);
      resolve();
    };
    client.on("ready", done);
    // `ready` is not emitted after destroy(); the poll notices stop() and late readiness.
    const poll = setInterval(() => {
      if (stopping() || (client.isReady && maxMs === undefined)) done();
    }, 100);
    if (maxMs !== undefined) timer = setTimeout(done, maxMs);
  });
}
