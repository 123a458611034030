/**
 * The hub's view of a delivery channel. WebSocket pub/sub and SSE streams both implement it and
 * register with the hub, which so knows neither Bun nor any wire encoding: it builds each
 * event's frame once and hands the same string to every transport.
 * @module
 */
export interface Transport {
  /** Live subscribers of `topic` on this transport, 0 when none. Asked once per topic per event. */
  receivers(topic: string): number;
  /**
   * Hands `frame` to the `receivers` live subscribers of `topic` (the string is shared by every
   * transport). The transport applies its own backpressure policy and counts its drops: an
   * ephemeral frame may be lost to a backed-up subscriber; a subscriber that cannot take a
   * durable frame is disconnected so that it resumes from its offset. Returns how many
   * subscribers took the frame.
   */
  deliver(topic: string, frame: string, seq: string, ephemeral: boolean, receivers: number): number;
  /**
   * Disconnects every live subscriber of a topic that `affected` accepts, so that it resumes
   * from its offset (used when the log skipped entries for this instance). Returns how many.
   */
  reset(affected: (topic: string) => boolean): number;
}
