/**
 * Presence's shapes, and this instance's members per topic (every instance keeps its own; in
 * Redis mode they are what it refreshes, so that its entries outlive it by at most the TTL).
 * @module
 */

/** One subscriber of a topic: its connection, cluster-unique, and its token's `sub`. */
export interface PresenceMember {
  client: string;
  user?: string;
}

/** Who is subscribed to a topic: `count` exact, at most the list limit of `members`. */
export interface PresenceSnapshot {
  topic: string;
  count: number;
  members: PresenceMember[];
  truncated: boolean;
}

export class LocalMembers {
  readonly #byTopic = new Map<string, Map<string, PresenceMember>>();

  add(topic: string, member: PresenceMember): void {
    let members = this.#byTopic.get(topic);
    if (!members) this.#byTopic.set(topic, (members = new Map()));
    members.set(member.client, member);
  }

  /** Removes `client` from `topic`; whether it was there. */
  remove(topic: string, client: string): boolean {
    const members = this.#byTopic.get(topic);
    if (!members?.delete(client)) return false;
    if (members.size === 0) this.#byTopic.delete(topic);
    return true;
  }

  /** Removes every member, answering them by topic (shutdown: they all leave). */
  drain(): [string, PresenceMember[]][] {
    const all = [...this.#byTopic].map(([topic, members]): [string, PresenceMember[]] => [topic, [...members.values()]]);
    this.#byTopic.clear();
    return all;
  }

  /** Topics with at least one member here, and their members. */
  entries(): IterableIterator<[string, ReadonlyMap<string, PresenceMember>]> {
    return this.#byTopic.entries();
  }

  snapshot(topic: string, limit: number): PresenceSnapshot {
    const members = this.#byTopic.get(topic);
    const count = members?.size ?? 0;
    const listed: PresenceMember[] = [];
    if (members) for (const m of members.values()) if (listed.length < limit) listed.push(m);
    return { topic, count, members: listed, truncated: count > listed.length };
  }
}
