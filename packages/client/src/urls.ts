/**
 * The endpoints of a tickwire server from the one URL an application gives: its base
 * (`https://host`, `ws://host:8080`, a path prefix behind a proxy, or a path relative to the
 * page in a browser), with or without a trailing `/ws` or `/events`.
 * @module
 */

export interface Endpoints {
  /** `ws(s)://…/ws?topics=` (empty: no topic until the first in-band subscribe), with `token` when given. */
  ws(token: string | undefined): string;
  /** `http(s)://…/events?topics=<topic>&lastEventId=…` (or `&position=1`), with `token` when given. */
  events(topic: string, since: string | undefined, token: string | undefined): string;
  /** `http(s)://…/<path>`. */
  http(path: string): string;
}

export function endpoints(url: string): Endpoints {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const base = new URL(url, page);
  base.pathname = base.pathname.replace(/\/(ws|events)\/?$/, "/").replace(/\/?$/, "/");
  base.search = "";
  base.hash = "";
  const web = new URL(base);
  web.protocol = base.protocol === "wss:" ? "https:" : base.protocol === "ws:" ? "http:" : base.protocol;
  const sock = new URL(base);
  sock.protocol = web.protocol === "https:" ? "wss:" : "ws:";
  const withToken = (u: URL, token: string | undefined) => {
    if (token) u.searchParams.set("token", token);
    return u.href;
  };
  return {
    ws(token) {
      const u = new URL("ws", sock);
      u.searchParams.set("topics", "");
      return withToken(u, token);
    },
    events(topic, since, token) {
      const u = new URL("events", web);
      u.searchParams.set("topics", topic);
      if (since !== undefined) u.searchParams.set("lastEventId", since);
      // Without a seq, ask where the stream starts (`event: position`): a reconnect resumes from it.
      else u.searchParams.set("position", "1");
      return withToken(u, token);
    },
    http: (path) => new URL(path.replace(/^\//, ""), web).href,
  };
}
