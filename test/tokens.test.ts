/**
 * Issue 17, tokens, in both storage modes: `exp` is required and capped by `JWT_MAX_TTL`; every
 * open WebSocket endpoint is closed with 4401 at its token's expiry and SSE gets
 * `event: token_expired` then the end of the stream, unless a WebSocket sent
 * `{"op":"refresh","token"}` with a newer valid token; several HS256 secrets and RS256 / ES256
 * public keys (PEM file, JWKS file) are accepted at once; the Bearer scheme is case-insensitive.
 *
 * Expiry is real time: tokens live 3 s (`exp` has whole seconds), and each test awaits the
 * closes it expects, all connections at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { mintToken } from "../src/auth/tokens.ts";
import type { Tickwire } from "../src/main.ts";
import { MODES, startServer, uniquePrefix, wsUrl } from "./support/server.ts";
import { sseClient } from "./support/sse-client.ts";
import { type WsTestClient, wsClient } from "./support/ws-client.ts";

const SECRET = "tokens-secret-new-0123456789";
const OLD_SECRET = "tokens-secret-old-0123456789";
const everything = { publish: ["*"], subscribe: ["*"] };

const dir = mkdtempSync(`${tmpdir()}/tickwire-keys-`);
const rsa = await generateKeyPair("RS256", { extractable: true });
const ec = await generateKeyPair("ES256", { extractable: true });
const ecJwk = { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" };
writeFileSync(`${dir}/rsa.pem`, await exportSPKI(rsa.publicKey));
writeFileSync(`${dir}/jwks.json`, JSON.stringify({ keys: [ecJwk] }));

const signed = (key: CryptoKey | Uint8Array, alg: string, claims: Record<string, unknown> = everything, lifetime: number | null = 600, kid?: string) => {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setSubject("u")
    .setIssuedAt(now);
  if (lifetime !== null) jwt.setExpirationTime(now + lifetime);
  return jwt.sign(key);
};
const hs = (secret: string, claims?: Record<string, unknown>, lifetime?: number | null) => signed(new TextEncoder().encode(secret), "HS256", claims, lifetime);
const isAck = (f: any) => f?.op === "ack";

/** Every WebSocket endpoint, by the path a token for `s1` may open. */
const WS_PATHS = ["/ws?topics=chat", "/ws/manager", "/ws/customer/s1", "/ws/gamemaster/s1", "/ws/broadcast"];

describe.each(MODES)("tokens ($name)", (mode) => {
  let app: Tickwire;
  beforeAll(async () => {
    app = await startServer({
      ...mode.env(uniquePrefix("tokens")),
      JWT_SECRET: `${SECRET},${OLD_SECRET}`,
      JWT_PUBLIC_KEY: `${dir}/rsa.pem`,
      JWT_JWKS_FILE: `${dir}/jwks.json`,
      JWT_MAX_TTL: "1h",
    });
  });
  afterAll(() => app.stop());

  const timers = (token: string, scheme = "Bearer") => fetch(`${app.url}/timers`, { headers: { Authorization: `${scheme} ${token}` } });
  const errorOf = async (res: Response) => ((await res.json()) as any).error;

  it("requires exp and refuses a lifetime over JWT_MAX_TTL, with 401 saying why", async () => {
    const noExp = await timers(await hs(SECRET, everything, null));
    expect(noExp.status).toBe(401);
    expect((await errorOf(noExp)).message).toBe("token: no exp claim; tokens must expire");
    const tooLong = await timers(await hs(SECRET, everything, 2 * 3600));
    expect(tooLong.status).toBe(401);
    expect((await errorOf(tooLong)).message).toContain("JWT_MAX_TTL");
    expect((await timers(await hs(SECRET, everything, 3600))).status).toBe(200);
  });

  it("accepts every configured secret and key, and nothing else", async () => {
    expect((await timers(await hs(SECRET))).status).toBe(200);
    expect((await timers(await hs(OLD_SECRET))).status).toBe(200);
    expect((await timers(await signed(rsa.privateKey, "RS256"))).status).toBe(200);
    expect((await timers(await signed(ec.privateKey, "ES256", everything, 600, "ec-1"))).status).toBe(200);
    // Not configured: a third secret, another RSA key, an unknown kid.
    const other = await generateKeyPair("RS256");
    for (const token of [
      await hs("tokens-secret-unknown-0123456789"),
      await signed(other.privateKey, "RS256"),
      await signed(ec.privateKey, "ES256", everything, 600, "ec-2"),
    ]) {
      const res = await timers(token);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toBe("token: invalid or wrongly signed");
    }
    // Key confusion: the public key's PEM used as an HMAC secret is not a secret here.
    expect((await timers(await hs(await exportSPKI(rsa.publicKey)))).status).toBe(401);
    // A WebSocket opens with a key-signed token too.
    const ws = wsClient(wsUrl(app, `/ws?topics=chat&token=${await signed(rsa.privateKey, "RS256")}`));
    await ws.opened;
    ws.send({ op: "ping", ref: 1 });
    expect((await ws.next(isAck)).pong).toBe(true);
    ws.close();
  });

  it("opens every WebSocket endpoint and SSE with a token of the old secret and of each public key", async () => {
    for (const token of [await hs(OLD_SECRET), await signed(rsa.privateKey, "RS256"), await signed(ec.privateKey, "ES256", everything, 600, "ec-1")]) {
      const sockets = WS_PATHS.map((path) => wsClient(wsUrl(app, `${path}${path.includes("?") ? "&" : "?"}token=${token}`)));
      await Promise.all(sockets.map((s) => s.opened));
      for (const s of sockets) {
        s.send({ op: "refresh", token, ref: "r" });
        expect((await s.next((f) => f.ref === "r")).op).toBe("ack");
        s.close();
      }
      const sse = await sseClient(`${app.url}/events?topics=chat&token=${token}`);
      expect(sse.response.status).toBe(200);
      sse.close();
    }
  });

  it("matches the Bearer scheme case-insensitively", async () => {
    const token = await hs(SECRET);
    for (const scheme of ["bearer", "BEARER", "Bearer"]) expect((await timers(token, scheme)).status).toBe(200);
    expect((await timers(token, "Basic")).status).toBe(401);
  });

  it("closes every WebSocket endpoint with 4401 and ends SSE with event: token_expired at the token's expiry", async () => {
    const token = await mintToken(SECRET, { sub: "u", ...everything, expiresIn: 3 });
    const sockets = WS_PATHS.map((path) => wsClient(wsUrl(app, `${path}${path.includes("?") ? "&" : "?"}token=${token}`)));
    await Promise.all(sockets.map((s) => s.opened));
    const sse = await sseClient(`${app.url}/events?topics=chat`, { Authorization: `Bearer ${token}` });
    expect(sse.response.status).toBe(200);
    const closes = await Promise.all(sockets.map((s) => s.closed));
    for (const close of closes) expect(close).toEqual({ code: 4401, reason: expect.stringContaining("token expired") });
    const expired = await sse.next((e) => e.event === "token_expired");
    expect(expired.json.code).toBe("token_expired");
    await sse.ended;
  });

  it("keeps a socket open past the old expiry once refreshed in-band, on every endpoint", async () => {
    const short = await mintToken(SECRET, { sub: "u", ...everything, expiresIn: 3 });
    const fresh = await mintToken(SECRET, { sub: "u", ...everything, expiresIn: 600 });
    const open = (path: string, token: string) => wsClient(wsUrl(app, `${path}${path.includes("?") ? "&" : "?"}token=${token}`));
    const refreshed = WS_PATHS.map((path) => open(path, short));
    const control = open("/ws?topics=chat", short);
    await Promise.all([...refreshed, control].map((s) => s.opened));
    for (const s of refreshed) s.send({ op: "refresh", token: fresh, ref: "r" });
    const acks = await Promise.all(refreshed.map((s) => s.next(isAck)));
    for (const ack of acks) expect(ack).toMatchObject({ op: "ack", ref: "r", exp: expect.any(Number) });
    // Once the control socket (same old token, not refreshed) is closed, the old expiry has passed.
    expect((await control.closed).code).toBe(4401);
    for (const s of refreshed) expect(s.ws.readyState).toBe(WebSocket.OPEN);
    // ... and they still work: a ping on /ws, a relay message on the manager.
    const [unified, manager] = refreshed as [WsTestClient, WsTestClient];
    unified.send({ op: "ping", ref: "p" });
    expect((await unified.next((f) => f.ref === "p")).pong).toBe(true);
    manager.send("after the refresh");
    expect((await manager.next((f) => isAck(f) && f.seq)).seq).toBeString();
    for (const s of refreshed) s.close();
  });

  it("refuses a refresh with a bad token, another sub or fewer permissions, and keeps the old token", async () => {
    const token = await mintToken(SECRET, { sub: "u", ...everything, expiresIn: 600 });
    const ws = wsClient(wsUrl(app, `/ws?topics=chat&token=${token}`));
    await ws.opened;
    const cases: [string, string][] = [
      [`${await mintToken(SECRET, { sub: "u", ...everything, expiresIn: 600 })}x`, "unauthorized"],
      [await mintToken(SECRET, { sub: "someone-else", ...everything, expiresIn: 600 }), "forbidden"],
      [await mintToken(SECRET, { sub: "u", subscribe: ["cron"], expiresIn: 600 }), "forbidden"],
      [await hs(SECRET, { ...everything }, null), "unauthorized"],
    ];
    for (const [i, [next, code]] of cases.entries()) {
      ws.send({ op: "refresh", token: next, ref: i });
      expect(await ws.next((f) => f.ref === i)).toMatchObject({ op: "error", code });
    }
    ws.send({ op: "ping", ref: "still" });
    expect((await ws.next((f) => f.ref === "still")).pong).toBe(true);
    ws.close();
  });
});
