/**
 * Events the SSE transport writes together at the end of an event-loop turn: each encoded
 * event, and a run of consecutive ones (one topic) joined once for every stream of the topic.
 * @module
 */

/** One encoded SSE event waiting for the end of the turn. */
export interface QueuedEvent {
  readonly chunk: Uint8Array;
  readonly ephemeral: boolean;
  readonly seq: string;
}

/** Consecutive events of one topic: their bytes joined (written by a stream that keeps up), and each. */
export interface SseRun {
  readonly bytes: Uint8Array;
  readonly events: readonly QueuedEvent[];
}

/** The chunks of `events[from..end)` in one buffer. */
export function concatChunks(events: readonly QueuedEvent[], from: number, end: number): Uint8Array {
  let size = 0;
  for (let i = from; i < end; i++) size += events[i]!.chunk.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = from; i < end; i++) {
    out.set(events[i]!.chunk, at);
    at += events[i]!.chunk.byteLength;
  }
  return out;
}
