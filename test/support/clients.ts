/**
 * Opens `@tickwire/client` clients with a test file's defaults (fast backoff and timeouts) and
 * closes every one of them after the file's tests.
 */
import { afterAll } from "bun:test";
import { type Client, type ConnectOptions, connect } from "../../packages/client/src/index.ts";

export function clientOpener(defaults: ConnectOptions): (url: string, opts?: ConnectOptions) => Client {
  const clients: Client[] = [];
  afterAll(() => {
    for (const c of clients) c.close();
  });
  return (url, opts = {}) => {
    const c = connect(url, { ...defaults, ...opts });
    clients.push(c);
    return c;
  };
}
