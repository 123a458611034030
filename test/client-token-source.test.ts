/**
 * `TokenSource` (`@tickwire/client`): callers of `current()` at once (each SSE stream opening)
 * share one `getToken` call; `fresh()` (after a 401 or 403) always makes its own, so it never
 * gets a token asked for before the rejection; a `getToken` that threw, even synchronously, is
 * asked again next time.
 */
import { expect, it } from "bun:test";
import { TokenSource } from "../packages/client/src/token.ts";

it("shares one getToken call among concurrent current() callers", async () => {
  let calls = 0;
  const source = new TokenSource(undefined, async () => `tok-${++calls}`);
  expect(await Promise.all([source.current(), source.current(), source.current()])).toEqual(["tok-1", "tok-1", "tok-1"]);
  expect(calls).toBe(1);
});

it("fresh() asks getToken anew even while a current() call is out", async () => {
  let calls = 0;
  const source = new TokenSource(undefined, async () => `tok-${++calls}`);
  const [joined, fresh] = await Promise.all([source.current(), source.fresh()]);
  expect([joined, fresh]).toEqual(["tok-1", "tok-2"]);
});

it("asks again after a getToken that threw synchronously", async () => {
  let calls = 0;
  let loggedIn = false;
  const source = new TokenSource(undefined, () => {
    calls++;
    if (!loggedIn) throw new Error("not logged in");
    return "tok-after-login";
  });
  await expect(source.current()).rejects.toThrow("not logged in");
  loggedIn = true;
  expect(await source.current()).toBe("tok-after-login");
  expect(calls).toBe(2);
});
