/**
 * Topics derived from a parent log: an entry appended to `parent` is also delivered, with the
 * same seq, on each topic `topicsOf(entry)` names, and replaying a derived topic reads the
 * parent's history and keeps the entries that name it. This is how `timer:<id>` and
 * `session:<id>` ride on the one `timers` log: one append and one stream per feature instead of
 * an unbounded set of streams for the Redis tailer to follow.
 * @module
 */
import type { LogEntry } from "./topic-log.ts";

export interface Derivation {
  parent: string;
  topicsOf(entry: LogEntry): readonly string[];
  /** Whether `topic` is one this derivation can produce. */
  matches(topic: string): boolean;
}

/** The registered derivations, by parent topic. */
export class Derivations {
  #byParent = new Map<string, Derivation[]>();

  add(derivation: Derivation): void {
    const list = this.#byParent.get(derivation.parent) ?? [];
    list.push(derivation);
    this.#byParent.set(derivation.parent, list);
  }

  /** The derivation that produces `topic`, if it is a derived topic. */
  of(topic: string): Derivation | undefined {
    for (const list of this.#byParent.values()) {
      for (const d of list) if (d.matches(topic)) return d;
    }
    return undefined;
  }

  /** The log topic `topic`'s entries are stored on: its parent, or itself. */
  rootOf(topic: string): string {
    return this.of(topic)?.parent ?? topic;
  }

  /** Derivations fed by entries of `parent`. */
  children(parent: string): readonly Derivation[] | undefined {
    return this.#byParent.get(parent);
  }
}
