/**
 * Who is subscribed where, as the subscribe path sees it: every connection's
 * {@link Subscriptions} reports each topic it joins and leaves (whatever the transport or
 * endpoint) to the hub's {@link Membership}, which hands it on to listeners (presence). Nothing
 * is kept here; a listener that wants the current members keeps them.
 * @module
 */
import { Listeners } from "./listeners.ts";

/** One connection, as presence names it. */
export interface Member {
  /** Unique in this process (the listener adds an instance id for the cluster). */
  readonly id: number;
  /** The token's `sub`; `undefined` when auth is off. */
  readonly sub: string | undefined;
}

export interface MembershipListener {
  joined(topic: string, member: Member): void;
  left(topic: string, member: Member): void;
}

let nextMemberId = 0;

/** A new member id, unique in this process. */
export function newMemberId(): number {
  return ++nextMemberId;
}

/** Fans membership changes out to listeners; one that throws does not stop the others. */
export class Membership implements MembershipListener {
  #joined: Listeners<[string, Member]>;
  #left: Listeners<[string, Member]>;

  constructor(onError: (error: unknown) => void = () => {}) {
    this.#joined = new Listeners(onError);
    this.#left = new Listeners(onError);
  }

  /** Registers `listener`; returns its remover. */
  listen(listener: MembershipListener): () => void {
    const a = this.#joined.add((topic, member) => listener.joined(topic, member));
    const b = this.#left.add((topic, member) => listener.left(topic, member));
    return () => (a(), b());
  }

  joined(topic: string, member: Member): void {
    if (this.#joined.size > 0) this.#joined.emit(topic, member);
  }

  left(topic: string, member: Member): void {
    if (this.#left.size > 0) this.#left.emit(topic, member);
  }
}
