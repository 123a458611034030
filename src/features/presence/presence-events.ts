/**
 * Join and leave frames. For topics matching `PRESENCE_EVENTS`, each join and leave is
 * appended to the durable root log `presence`, from which the hub derives `presence:<topic>`:
 * so the frames have seqs and epochs like every durable topic, reach every instance through the
 * log (Redis mode), and a client resumes them with `since` like any other topic. A frame is
 * `{"topic":"presence:<t>","seq","ts","epoch"?,"event":"join|leave","subject":"<t>","client","user"?}`.
 *
 * Joins are announced within the member's {@link JoinAllowance}: past it the member joins all
 * the same (subscribed, and counted by `GET /presence`), but silently: neither its join nor, later,
 * its leave is appended, and the refusal is counted (`presence_joins`).
 * @module
 */
import { topicMatches } from "../../auth/access.ts";
import type { Derivation } from "../../core/derivation.ts";
import type { Hub } from "../../core/hub.ts";
import type { Logger } from "../../log.ts";
import type { JoinAllowance } from "./join-allowance.ts";
import type { PresenceMember } from "./members.ts";

/** The root log of every join/leave event. */
export const PRESENCE_ROOT = "presence";
export const PRESENCE_PREFIX = "presence:";

export const presenceDerivation: Derivation = {
  parent: PRESENCE_ROOT,
  topicsOf: (entry) => (typeof entry.body.subject === "string" ? [`${PRESENCE_PREFIX}${entry.body.subject}`] : []),
  matches: (topic) => topic.startsWith(PRESENCE_PREFIX),
};

export interface PresenceEventsOptions {
  /** Topic patterns whose joins and leaves are announced (`PRESENCE_EVENTS`). */
  patterns: readonly string[];
  log: Logger;
  /** Bounds the joins each client has announced; absent: every join is. */
  allowance?: JoinAllowance;
  /** Counts an event the log could not take (overloaded or down): it is lost, the presence state is not. */
  onDropped?: () => void;
  /** Counts a join left unannounced by the allowance. */
  onRefused?: () => void;
}

const keyOf = (topic: string, member: PresenceMember) => `${topic}\n${member.client}`;

export class PresenceEvents {
  readonly #hub: Hub;
  readonly #o: PresenceEventsOptions;
  /** This instance's members whose join was not announced (`topic\nclient`), so that their leave is not either. */
  readonly #silent = new Set<string>();

  constructor(hub: Hub, opts: PresenceEventsOptions) {
    this.#hub = hub;
    this.#o = opts;
  }

  /** Whether joins and leaves of `topic` are announced (never those of presence topics themselves). */
  announces(topic: string): boolean {
    return !topic.startsWith(PRESENCE_PREFIX) && topic !== PRESENCE_ROOT && this.#o.patterns.some((p) => topicMatches(p, topic));
  }

  /**
   * Resolves once the event is in the log, counted as dropped, or left out (a join past the
   * member's allowance, and the leave of such a join); never rejects: shutdown awaits it before
   * Redis closes. The allowance is taken at once, in the caller's turn; the append comes after it.
   */
  async announce(event: "join" | "leave", topic: string, member: PresenceMember): Promise<void> {
    if (!this.announces(topic)) return;
    if (event === "leave" ? this.#silent.delete(keyOf(topic, member)) : !this.#admit(topic, member)) return;
    const body = { event, subject: topic, client: member.client, ...(member.user === undefined ? {} : { user: member.user }) };
    try {
      // Appended after the caller's turn, never inside it: a leave comes from a connection closed
      // while a transport writes a batch (SSE overflow, WS 4008), and an in-process log would
      // deliver it at once, ahead of the older frames that write still holds.
      await Promise.resolve();
      await this.#hub.append(PRESENCE_ROOT, body);
    } catch (err) {
      this.#o.onDropped?.();
      this.#o.log.warn({ err: String(err), topic, event }, "presence: could not publish the event");
    }
  }

  /** `member` left `topic` with no leave to announce (some instance's sweep announced it already): forgets it. */
  forget(topic: string, member: PresenceMember): void {
    this.#silent.delete(keyOf(topic, member));
  }

  /** Members whose join was not announced and who have not left yet (bounded by this instance's subscriptions). */
  get silent(): number {
    return this.#silent.size;
  }

  #admit(topic: string, member: PresenceMember): boolean {
    if (!this.#o.allowance || this.#o.allowance.take(member.user)) return true;
    this.#silent.add(keyOf(topic, member));
    this.#o.onRefused?.();
    return false;
  }
}
