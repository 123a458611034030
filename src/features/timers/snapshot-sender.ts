/**
 * Sending a socket's snapshot (`timer-snapshot.ts`) without losing it to backpressure. Frames
 * go out while the socket buffers at most half its limit; past that, the rest waits for the
 * socket's `drain` and goes on from there, however slowly the client reads (a game master with
 * 20 000 timers is several megabytes: more than a slow link takes at once, and a reconnect would
 * only start it over). A snapshot sent in one go is followed at once by live frames, in the same
 * synchronous step (nothing delivered in between); one that had to wait subscribes afterwards
 * from the snapshot's position, so the entries delivered meanwhile are replayed after it: no gap,
 * no duplicate. While it waits, the socket holds its list of states (one reference per timer).
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import type { Hub } from "../../core/hub.ts";
import { CloseCode, closeSocket, type Socket } from "../../transports/ws/socket.ts";
import type { TimerMap } from "./timer-map.ts";
import { snapshotFrames, snapshotPosition } from "./timer-snapshot.ts";
import type { TimerState } from "./timer-state.ts";

/** Frames built and sent per step. */
const SLICE = 256;

export class SnapshotSender {
  readonly #waiting = new WeakMap<Socket, () => void>();

  /** `limit`: the sockets' backpressure limit (bytes). */
  constructor(
    private readonly hub: Hub,
    private readonly map: TimerMap,
    private readonly clock: Clock,
    private readonly limit: number,
  ) {}

  /**
   * Sends `states` to `ws` as the snapshot of `topic`, then calls `live` once: with `undefined`
   * when it went out in one go (go live now), else with the snapshot's position (resume from it).
   */
  send(ws: Socket, topic: string, states: readonly TimerState[], live: (since: string | undefined) => void): void {
    const position = snapshotPosition(this.hub);
    let next = 0;
    let waited = false;
    const pump = () => {
      this.#waiting.delete(ws);
      while (next < states.length) {
        const frames = snapshotFrames(this.map, topic, states.slice(next, next + SLICE), this.clock.now(), position, next);
        for (const frame of frames) {
          if (ws.data.closed) return;
          if (ws.getBufferedAmount() > this.limit / 2) {
            waited = true;
            this.#waiting.set(ws, pump);
            return;
          }
          // Dropped all the same (one frame larger than the rest of the limit): not a whole snapshot.
          if (ws.send(frame) === 0) return closeSocket(ws, CloseCode.overflow, "snapshot larger than the socket could take; reconnect");
          next++;
        }
      }
      if (!ws.data.closed) live(waited ? position.seq : undefined);
    };
    pump();
  }

  /** The socket's buffer drained: its snapshot, if one waits, goes on. */
  drained(ws: Socket): void {
    this.#waiting.get(ws)?.();
  }
}
