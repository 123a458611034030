/**
 * Join and leave frames. For topics matching `PRESENCE_EVENTS`, each join and leave is
 * appended to the durable root log `presence`, from which the hub derives `presence:<topic>`:
 * so the frames have seqs and epochs like every durable topic, reach every instance through the
 * log (Redis mode), and a client resumes them with `since` like any other topic. A frame is
 * `{"topic":"presence:<t>","seq","ts","epoch"?,"event":"join|leave","subject":"<t>","client","user"?}`.
 * @module
 */
import { topicMatches } from "../../auth/access.ts";
import type { Derivation } from "../../core/derivation.ts";
import type { Hub } from "../../core/hub.ts";
import type { Logger } from "../../log.ts";
import type { PresenceMember } from "./members.ts";

/** The root log of every join/leave event. */
export const PRESENCE_ROOT = "presence";
export const PRESENCE_PREFIX = "presence:";

export const presenceDerivation: Derivation = {
  parent: PRESENCE_ROOT,
  topicsOf: (entry) => (typeof entry.body.subject === "string" ? [`${PRESENCE_PREFIX}${entry.body.subject}`] : []),
  matches: (topic) => topic.startsWith(PRESENCE_PREFIX),
};

export class PresenceEvents {
  readonly #hub: Hub;
  readonly #patterns: readonly string[];
  readonly #log: Logger;
  readonly #onDropped: () => void;

  /** @param onDropped counts an event the log could not take (overloaded or down): it is lost, the presence state is not. */
  constructor(hub: Hub, patterns: readonly string[], log: Logger, onDropped: () => void = () => {}) {
    this.#hub = hub;
    this.#patterns = patterns;
    this.#log = log;
    this.#onDropped = onDropped;
  }

  /** Whether joins and leaves of `topic` are announced (never those of presence topics themselves). */
  announces(topic: string): boolean {
    return !topic.startsWith(PRESENCE_PREFIX) && topic !== PRESENCE_ROOT && this.#patterns.some((p) => topicMatches(p, topic));
  }

  /** Resolves once the event is in the log or counted as dropped (never rejects): shutdown awaits it before Redis closes. */
  async announce(event: "join" | "leave", topic: string, member: PresenceMember): Promise<void> {
    if (!this.announces(topic)) return;
    const body = { event, subject: topic, client: member.client, ...(member.user === undefined ? {} : { user: member.user }) };
    try {
      await this.#hub.append(PRESENCE_ROOT, body);
    } catch (err) {
      this.#onDropped();
      this.#log.warn({ err: String(err), topic, event }, "presence: could not publish the event");
    }
  }
}
