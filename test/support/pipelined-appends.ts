/**
 * One publisher pipelining appends to a Redis topic log's stream as fast as it can (a turn's
 * break every few appends), for the order tests across failovers, slot moves and script flushes:
 *
 *   const pump = pipelineAppends(client, { prefix: "so", topic: "chat" });
 *   await until(() => pump.acked.length > 500);  // … a failover …
 *   await pump.stop();                           // no more sent, every one settled
 *   await pump.stored();                         // the labels in stream order
 *
 * Each append's body is `{ label }`, labels counting up in send order.
 * @module
 */
import { appendCommand, sendAppend } from "../../src/infra/redis/append-script.ts";
import type { Redis } from "../../src/infra/redis/client.ts";

export interface PipelinedAppends {
  readonly key: string;
  /** Labels acknowledged, in the order of their acks. */
  readonly acked: number[];
  /** Why each refused append was refused. */
  readonly refusals: unknown[];
  /** Appends sent so far. */
  readonly sent: number;
  /** Stops sending and waits for every append sent to settle. */
  stop(): Promise<void>;
  /** The labels the stream holds, in its order. */
  stored(): Promise<number[]>;
  /** The acknowledged labels the stream holds, in its order. */
  storedAcked(): Promise<number[]>;
}

export function pipelineAppends(client: Redis, { prefix, topic }: { prefix: string; topic: string }): PipelinedAppends {
  const key = `${prefix}:${topic}`;
  const acked: number[] = [];
  const refusals: unknown[] = [];
  const settled: Promise<unknown>[] = [];
  let sent = 0;
  let stopping = false;
  const pump = (async () => {
    while (!stopping) {
      const label = sent++;
      const json = JSON.stringify({ label });
      const command = appendCommand({ prefix, topic, tailed: [key], opts: undefined, historySize: 1e6, json, ts: Date.now() });
      settled.push(
        sendAppend(client, command).then(
          () => acked.push(label),
          (error: unknown) => refusals.push(error),
        ),
      );
      if (label % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const stored = async () => {
    const entries = await client.sendCommand<[string, string[]][]>(["XRANGE", key, "-", "+"]);
    return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf("d") + 1]!).label as number);
  };
  return {
    key,
    acked,
    refusals,
    get sent() {
      return sent;
    },
    async stop() {
      stopping = true;
      await pump;
      await Promise.all(settled);
    },
    stored,
    async storedAcked() {
      const ackedSet = new Set(acked);
      return (await stored()).filter((label) => ackedSet.has(label));
    },
  };
}
