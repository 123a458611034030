/**
 * With auth on, a token whose `name` claim is blank names nobody: the sender is its `sub`, not
 * "   " (found by review, 2026-12-04); so does one blank in the 64 characters kept of it (found
 * by review of 22c781c).
 */
import { afterAll, beforeAll, expect, it } from "bun:test";
import { SignJWT } from "jose";
import type { Tickwire } from "../src/main.ts";
import { startServer } from "./support/server.ts";

const SECRET = "rev8-secret-0123456789abcdef";
let app: Tickwire;
beforeAll(async () => {
  app = await startServer({ JWT_SECRET: SECRET });
});
afterAll(() => app.stop());

async function senderFor(name: string): Promise<unknown> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ name, publish: ["chat"], subscribe: ["chat"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("alice")
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(SECRET));
  const res = await fetch(`${app.url}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ content: "hi", user: "" }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as any).user;
}

it("a blank name claim falls back to the sub", async () => {
  expect(await senderFor("   ")).toBe("alice");
});

it("a name claim blank in the 64 characters kept of it falls back to the sub", async () => {
  expect(await senderFor(`${" ".repeat(64)}mallory`)).toBe("alice");
  expect(await senderFor(`${"b".repeat(70)}`)).toBe("b".repeat(64));
});
