/**
 * What a replay (`catch-up.ts`) writes to: one connection's subscription while it catches up on
 * a topic's history. `subscriptions.ts` builds the one implementation every transport uses.
 * @module
 */

/** Something catching up on a topic's history before it receives live frames. */
export interface ReplayTarget {
  /** Sends one frame. Returns `false` if it cannot be queued; the replay then stops. */
  send(frame: string, seq: string, ephemeral: boolean): boolean;
  /** Called first when events after `since` were already evicted. */
  notRecovered(): void;
  /** Switches the target to live delivery (e.g. `ws.subscribe(topic)`), synchronously. */
  goLive(): void;
  /**
   * Called once the history and the frames held meanwhile were sent, with the newest seq sent
   * (none: nothing was); live frames follow on the direct path until the target goes live.
   */
  historySent?(newest: string | undefined): void;
  /**
   * Asked each time the target could go live; `false` keeps it on the direct path (every live
   * frame through `send`) and asks again on the next one. Absent: always.
   */
  mayGoLive?(): boolean;
  /** Called instead of `goLive` when the target could not keep up; it should be closed. */
  overflowed(): void;
  readonly closed: boolean;
}
