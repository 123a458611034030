/**
 * Sending a socket's snapshot (`timer-snapshot.ts`) without losing it to backpressure and without
 * stalling the process. Frames go out while the socket buffers at most half its limit; past that,
 * the rest waits for the socket's `drain` and goes on from there, however slowly the client reads
 * (a game master with 20 000 timers is several megabytes: more than a slow link takes at once,
 * and a reconnect would only start it over). Snapshots also share a budget per event-loop turn
 * (`TURN_FRAMES` frames, `TURN_MS` ms): past it, the rest goes on in the next turn
 * (`setImmediate`), so that building and sending 20 000 frames never holds up the other clients
 * or the ticker for more than a few milliseconds at a time.
 *
 * A snapshot sent in one go is followed at once by live frames, in the same synchronous step
 * (nothing delivered in between); one that had to wait (for a drain or for the next turn)
 * subscribes afterwards from the snapshot's position, so the entries delivered meanwhile are
 * replayed after it: no gap, no duplicate. While it waits, the socket holds its list of states
 * (one reference per timer).
 * @module
 */
import type { Clock } from "../../core/clock.ts";
import type { Hub } from "../../core/hub.ts";
import { CloseCode, closeSocket, type Socket } from "../../transports/ws/socket.ts";
import type { TimerMap } from "./timer-map.ts";
import { snapshotFrames, snapshotPosition } from "./timer-snapshot.ts";
import type { TimerState } from "./timer-state.ts";

/** Frames built and sent per step; the turn's budget is checked between steps. */
const SLICE = 256;
/** Snapshot frames sent per event-loop turn, over all sockets (each gets one slice at least). */
const TURN_FRAMES = 1024;
/** Time spent on snapshots per event-loop turn (ms of real time, not the app clock), over all sockets. */
const TURN_MS = 8;

/** What this turn's snapshots have spent so far. */
interface Turn {
  ends: number;
  frames: number;
}

export class SnapshotSender {
  readonly #waiting = new WeakMap<Socket, () => void>();
  /** This turn's budget, from the first snapshot step in it (reset by `setImmediate`). */
  #turn: Turn | undefined;

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
      const turn = this.#budget();
      let first = true;
      while (next < states.length) {
        if (ws.data.closed) return;
        if (!first && (turn.frames >= TURN_FRAMES || performance.now() >= turn.ends)) {
          // The turn's budget is spent: the rest goes on in the next one, after the I/O waiting,
          // corked as in Bun's own callbacks (else each frame is a write of its own).
          waited = true;
          setImmediate(() => ws.cork(pump));
          return;
        }
        first = false;
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
          turn.frames++;
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

  /** The budget of the current turn: a fresh one in the first snapshot step after a `setImmediate`. */
  #budget(): Turn {
    if (this.#turn) return this.#turn;
    const turn: Turn = { ends: performance.now() + TURN_MS, frames: 0 };
    this.#turn = turn;
    setImmediate(() => {
      if (this.#turn === turn) this.#turn = undefined;
    });
    return turn;
  }
}
