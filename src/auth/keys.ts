/**
 * The keys tokens are verified with: HS256 secrets (several at once, for rotation), and RS256 /
 * ES256 public keys from a PEM (text or file) or a JWKS file, as Centrifugo and Mercure accept.
 * An HS256 token is only ever checked against the secrets, and an RS256/ES256 one only against
 * public keys, so a public key can never be used as an HMAC secret (key confusion).
 * @module
 */
import { createPublicKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { type CryptoKey, createLocalJWKSet, importSPKI, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

export type AsymmetricAlg = "RS256" | "ES256";
export const ASYMMETRIC_ALGS: readonly AsymmetricAlg[] = ["RS256", "ES256"];

export interface KeySources {
  /** HS256 secrets; the first is the one minted tokens are signed with. */
  secrets?: readonly string[];
  /** PEM text (SPKI) or the path of a PEM file. */
  publicKey?: string;
  /** The path of a JWKS file. */
  jwksFile?: string;
}

export interface VerificationKeys {
  hmac: Uint8Array[];
  /** Public keys by algorithm, from `publicKey`. */
  asymmetric: { alg: AsymmetricAlg; key: CryptoKey }[];
  /** Keys from the JWKS file, chosen by the token's `kid` and `alg`. */
  jwks?: JWTVerifyGetKey;
}

/** Loads every configured key; throws a readable error for a key that cannot be used. */
export async function loadKeys(sources: KeySources): Promise<VerificationKeys> {
  const keys: VerificationKeys = { hmac: (sources.secrets ?? []).map((s) => new TextEncoder().encode(s)), asymmetric: [] };
  if (sources.publicKey) {
    const pem = sources.publicKey.includes("-----BEGIN") ? sources.publicKey : readPem(sources.publicKey);
    const alg = algOfPem(pem);
    keys.asymmetric.push({ alg, key: await importSPKI(pem, alg) });
  }
  if (sources.jwksFile) {
    let set: JSONWebKeySet;
    try {
      set = JSON.parse(readFileSync(sources.jwksFile, "utf8")) as JSONWebKeySet;
    } catch (error) {
      throw new Error(`JWT_JWKS_FILE: cannot read ${sources.jwksFile} as JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(set?.keys) || set.keys.length === 0) throw new Error(`JWT_JWKS_FILE: ${sources.jwksFile} has no "keys"`);
    keys.jwks = createLocalJWKSet(set);
  }
  return keys;
}

function readPem(path: string): string {
  if (!existsSync(path)) throw new Error(`JWT_PUBLIC_KEY: neither PEM text nor an existing file: ${path.slice(0, 80)}`);
  return readFileSync(path, "utf8");
}

/** RS256 for an RSA key, ES256 for a P-256 key; anything else is refused. */
function algOfPem(pem: string): AsymmetricAlg {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`JWT_PUBLIC_KEY: not a PEM public key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType === "rsa") return "RS256";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw new Error(`JWT_PUBLIC_KEY: a ${key.asymmetricKeyType} key; expected RSA (RS256) or EC P-256 (ES256)`);
}
