/**
 * What the common subscribe path sees of an SSE stream: replayed history is written as the same
 * SSE events live delivery sends, live delivery is a registration with the SSE transport.
 * @module
 */
import { sseEvent } from "../../core/frame.ts";
import { ReplayRefusedError } from "../../core/replay-limits.ts";
import type { Subscriber } from "../../core/subscriptions.ts";
import { topicFamily } from "../../core/topic.ts";
import type { Logger } from "../../log.ts";
import type { SseConnection } from "./connection.ts";
import { isTick, type SseTransport } from "./sse-transport.ts";

const utf8 = new TextEncoder();

export function sseSubscriber(conn: SseConnection, transport: SseTransport, log: Logger): Subscriber {
  return {
    get closed() {
      return conn.closed;
    },
    write(topic, frame, seq, ephemeral) {
      transport.flush(); // live events held for this turn were delivered first: they go first
      const chunk = utf8.encode(sseEvent(seq, frame));
      if (isTick({ ephemeral, seq })) conn.sendTick(chunk, seq, topicFamily(topic));
      else conn.send(chunk, ephemeral, topicFamily(topic), seq);
      return !conn.closed;
    },
    live: (topic) => transport.add(topic, conn),
    unlive: (topic) => transport.remove(topic, conn),
    notRecovered(topic) {
      conn.writeText(`event: recovered\ndata: ${JSON.stringify({ op: "recovered", topic, recovered: false })}\n\n`);
    },
    overflowed: () => conn.overflow(),
    replayFailed(topic, error) {
      if (error instanceof ReplayRefusedError) {
        conn.writeText(`event: error\ndata: ${JSON.stringify({ op: "error", code: error.code, message: `topic ${topic}: ${error.message}` })}\n\n`);
        return conn.close();
      }
      log.warn({ err: String(error), topic }, "sse replay failed");
      conn.close();
    },
  };
}
