/**
 * Which sessions have a customer connected, for the game master panel: presence on
 * `session:<id>` (every `/ws/customer/<id>` socket, or anything else subscribed to it) through
 * `@tickwire/client`. The count comes from the in-band presence op; the session's join and
 * leave frames (`presence:session:<id>`, PRESENCE_EVENTS) and every reconnect ask again, so the
 * panel is exact as soon as a customer comes or goes.
 * @module
 */
import { pageClient } from "./live-client.js";

export class SessionPresence {
  /** @param {(counts: Map<string, number>) => void} onChange */
  constructor(onChange) {
    this.onChange = onChange;
    /** sessionId → customers connected (absent: not known yet). */
    this.counts = new Map();
    this.watched = new Set();
    /** sessionId → number of its latest presence request: an older answer is stale. */
    this.asked = new Map();
    this.#start();
  }

  /** Follows exactly `sessionIds` (the sessions the panel shows). */
  watch(sessionIds) {
    const wanted = new Set(sessionIds);
    for (const id of this.watched) {
      if (wanted.has(id)) continue;
      this.watched.delete(id);
      this.counts.delete(id);
      this.client.unsubscribe(`presence:session:${id}`);
    }
    for (const id of wanted) if (!this.watched.has(id)) this.#follow(id);
  }

  restart() {
    this.client.close();
    this.#start();
  }

  #start() {
    this.client = pageClient();
    this.client.onState((state) => {
      if (state === "connected") for (const id of this.watched) this.#load(id);
    });
    const ids = [...this.watched];
    this.watched.clear();
    for (const id of ids) this.#follow(id);
  }

  #follow(id) {
    this.watched.add(id);
    const reload = () => this.#load(id);
    try {
      this.client.subscribe(`presence:session:${id}`, { onMessage: reload, onRecovered: reload, onError: () => {} });
    } catch {}
    this.#load(id);
  }

  async #load(id) {
    const client = this.client;
    const n = (this.asked.get(id) ?? 0) + 1;
    this.asked.set(id, n);
    try {
      const { count } = await client.presence(`session:${id}`);
      if (client !== this.client || !this.watched.has(id) || this.asked.get(id) !== n) return;
      this.counts.set(id, count);
      this.onChange(this.counts);
    } catch {
      // Not connected yet, or not allowed: the next connect or frame asks again.
    }
  }
}
