/**
 * The durable position an ephemeral frame on a topic with a log is stamped after
 * (`<position>.<k>`, see `seq.ts`).
 *
 * Not only its own root's last delivered entry: a socket on `timers` and `chat` resumes both
 * from one offset, any seq it received, and a `TIMER_UPDATE` stamped after the last `timers`
 * entry, behind chat entries it followed, would have them replayed again. Log ids increase
 * across roots in delivery order (the embedded logs share one generator; the Redis append script
 * numbers an entry after every tailed stream's tip and the tailer hands one read's entries over
 * in id order), so the newest entry delivered on any root is a position every root has passed:
 * each root's entries up to it were delivered before it, and the ones after it come after.
 * Only entries delivered here count, not a log's own starting point (the Redis tailer's stream
 * ends are read one by one, and one stream's end may lie past another's next entry).
 *
 * A root's stamps never go back: a gap on another root forgets that root's position (its
 * history may have been replaced), so the newest one falls, but a frame on this root must not
 * carry an older seq than the one before it.
 * @module
 */
import { compareSeq } from "./seq.ts";

export class EphemeralStamps {
  #delivered: ReadonlyMap<string, string>;
  #newest: string | undefined;
  #floor = new Map<string, string>();

  /** `delivered`: the newest entry delivered per root (the hub's; a reset root is absent). */
  constructor(delivered: ReadonlyMap<string, string>) {
    this.#delivered = delivered;
  }

  /** An entry was delivered (its seq is in the map too). */
  delivered(seq: string): void {
    if (this.#newest === undefined || compareSeq(seq, this.#newest) > 0) this.#newest = seq;
  }

  /** `root`'s log was reset: its own stamps start over, and its old position no longer counts. */
  reset(root: string): void {
    this.#floor.delete(root);
    this.#newest = undefined;
    for (const seq of this.#delivered.values()) this.delivered(seq);
  }

  /** The position the next ephemeral frame on `root` is stamped after; `own`: `root`'s last delivered seq. */
  position(root: string, own: string | undefined): string {
    let position = own ?? "0-0";
    const newest = this.#newest;
    if (newest !== undefined && compareSeq(newest, position) > 0) position = newest;
    const floor = this.#floor.get(root);
    if (floor !== undefined && compareSeq(floor, position) > 0) position = floor;
    if (floor !== position) this.#floor.set(root, position);
    return position;
  }
}
