/**
 * The frames tickwire sends, typed per topic family. Every topic frame is one JSON object:
 * `{"topic","seq","ts","epoch"?,...body}`; `epoch` names the history a durable seq belongs to.
 * @module
 */

/** What every topic frame carries. */
export interface FrameHead<T extends string = string> {
  topic: T;
  /** The topic's offset: pass it as `since` to resume after it. */
  seq: string;
  /** Epoch milliseconds. */
  ts: number;
  /** The history `seq` belongs to; seqs of different epochs are not comparable. */
  epoch?: string;
}

/** `cron`: one tick a second, ephemeral (never replayed). */
export interface CronFrame extends FrameHead<"cron"> {
  event: "cron_tick";
  /** ISO-8601 UTC time of the tick. */
  message: string;
}

export interface ChatFrame extends FrameHead<"chat"> {
  type: "message";
  id: string;
  content: string;
  user: string;
  timestamp: string;
}

export interface RelayFrame extends FrameHead<"relay"> {
  message: string;
}

export interface Timer {
  id: number;
  sessionId: string;
  currentTime: number;
  maxTime: number;
  isPaused: boolean;
  status: "running" | "paused" | "finished";
  createdAt: string;
  updatedAt: string;
}

export type TimerEventType = "TIMER_CREATE" | "TIMER_UPDATE" | "TIMER_PAUSE" | "TIMER_RESUME" | "TIMER_MODIFY" | "TIMER_STOP" | "TIMER_EXPIRE";

/** `timers`, `timer:<id>`, `session:<sessionId>`. */
export interface TimerFrame<T extends string = string> extends FrameHead<T> {
  type: TimerEventType;
  payload: Timer;
}

/** One subscriber of a topic, as presence reports it. */
export interface PresenceMember {
  /** The connection, unique in the cluster. */
  client: string;
  /** The token's `sub` (absent when auth is off). */
  user?: string;
}

/** `presence:<topic>`: someone subscribed to `<topic>` or left it. */
export interface PresenceFrame<T extends string = string> extends FrameHead<T>, PresenceMember {
  event: "join" | "leave";
  /** The topic joined or left. */
  subject: string;
}

/** Who is subscribed to a topic: at most `limit` members listed, `count` is exact. */
export interface PresenceSnapshot {
  topic: string;
  count: number;
  members: PresenceMember[];
  /** `true` when `count` is larger than the members listed. */
  truncated: boolean;
}

/** The frame type of a topic, from its name. */
export type FrameOf<T extends string> = T extends "cron"
  ? CronFrame
  : T extends "chat"
    ? ChatFrame
    : T extends "relay"
      ? RelayFrame
      : T extends `presence:${string}`
        ? PresenceFrame<T>
        : T extends "timers" | `timer:${string}` | `session:${string}`
          ? TimerFrame<T>
          : FrameHead<T> & Record<string, unknown>;

/** What a publish resolves with: the stored offset. */
export interface PublishAck {
  topic: string;
  seq: string;
}
